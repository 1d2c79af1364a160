// The claims of a Tollgate access token (RFC 9068) and helpers to read them.

/**
 * Claims of a verified Tollgate access token. `auth_time` and `roles` are present
 * for tokens issued to a user; a service token (client_credentials) has
 * `sub === client_id` and neither.
 */
export interface AccessTokenClaims {
  readonly iss: string
  readonly sub: string
  readonly aud: string | readonly string[]
  readonly exp: number
  readonly iat: number
  readonly jti: string
  readonly client_id: string
  readonly scope: string
  readonly auth_time?: number
  /** The session a user's token belongs to (its id in `GET /session`); revoked with it. */
  readonly sid?: string
  readonly roles?: readonly string[]
  /** RFC 9449 §6: the thumbprint of the DPoP key the token is bound to; it is only usable with proofs by that key. */
  readonly cnf?: { readonly jkt: string }
  /** RFC 8693 §4.1: who is acting for `sub` after a token exchange; `act.act` is who acted before them. */
  readonly act?: ActorClaim
  readonly [claim: string]: unknown
}

/** An RFC 8693 `act` claim: the actor's `sub` (a client_id at Tollgate) and, nested, the actor before it. */
export interface ActorClaim {
  readonly sub: string
  readonly act?: ActorClaim
  readonly [claim: string]: unknown
}

/** What a protected route sees about its caller. */
export interface AuthContext {
  readonly claims: AccessTokenClaims
  readonly subject: string
  readonly clientId: string
  readonly scopes: ReadonlySet<string>
  /**
   * After a token exchange, the service acting for `subject` (the current actor, `act.sub`); undefined for a token
   * the subject's own client obtained.
   */
  readonly actor: string | undefined
  /** Every actor, the current one first, back to the first service that exchanged the subject's token. */
  readonly actorChain: readonly string[]
  /** True when every given scope was granted. */
  hasScope(...scopes: string[]): boolean
}

const NO_ACTORS: readonly string[] = Object.freeze([])

/** Splits an OAuth `scope` string (RFC 6749 §3.3) into its distinct tokens. */
export function parseScope(scope: string | undefined): Set<string> {
  const out = new Set<string>()
  if (!scope) return out
  for (const s of scope.split(' ')) if (s) out.add(s)
  return out
}

/**
 * Builds the `request.auth` view of verified claims.
 *
 * @example
 * const auth = authContext(await verifier.verify(token))
 * if (!auth.hasScope('notes:read')) throw new InsufficientScopeError(['notes:read'])
 */
export function authContext(claims: AccessTokenClaims): AuthContext {
  const scopes = parseScope(claims.scope)
  // Most tokens have no actor: no array per request for them (this runs on every authenticated request).
  const actorChain = claims.act === undefined ? NO_ACTORS : actorsOf(claims.act)
  return {
    claims,
    subject: claims.sub,
    clientId: claims.client_id,
    scopes,
    actor: actorChain[0],
    actorChain,
    hasScope: (...wanted) => wanted.every((s) => scopes.has(s)),
  }
}

/** The actors of an `act` claim, outermost (current) first. */
export function actorsOf(act: ActorClaim | undefined): string[] {
  const chain: string[] = []
  for (let at = act; at !== undefined; at = at.act) chain.push(at.sub)
  return chain
}
