// The admin scopes (SPEC "Administration over HTTP"): `tollgate:admin` for everything, or one per area; held by
// clients that list them and by users with the `admin` role, and by nobody else.

/** Every area of the admin API. */
export const ADMIN_SCOPE = 'tollgate:admin'
export const ADMIN_AREAS = ['clients', 'users', 'sessions', 'keys', 'audit'] as const
export type AdminArea = (typeof ADMIN_AREAS)[number]
/** The role that lets a user hold admin scopes. */
export const ADMIN_ROLE = 'admin'

/** The scope of one area: `tollgate:admin:clients`, … */
export const areaScope = (area: AdminArea): string => `${ADMIN_SCOPE}:${area}`

/** Whether a scope grants any administration. */
export const isAdminScope = (scope: string): boolean => scope === ADMIN_SCOPE || scope.startsWith(`${ADMIN_SCOPE}:`)

/** Whether `scopes` (a token's) allow an area. */
export const allowsArea = (scopes: readonly string[], area: AdminArea): boolean =>
  scopes.includes(ADMIN_SCOPE) || scopes.includes(areaScope(area))

/**
 * The part of a user's scope they may hold: admin scopes only with the `admin` role. Applied wherever a user gets a
 * token (sign-in, code exchange, refresh), so a client listing admin scopes never hands them to other users
 * (RFC 6749 §3.3: the server may grant less than asked, and says so in `scope`).
 *
 * @example
 * const scope = userScope(requested, user.roles) // ['openid'] for a user without the admin role
 */
export function userScope(scope: readonly string[], roles: readonly string[]): string[] {
  return roles.includes(ADMIN_ROLE) ? [...scope] : scope.filter((s) => !isAdminScope(s))
}
