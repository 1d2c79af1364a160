// Managing users, for the admin API and the CLI alike: created with the bootstrap file's validation, disabled (every
// token refused and every session ended, at verifiers too), given a new password, deleted — each change audited.
import type { AuditContext, AuditEventType } from '../audit/event.js'
import { generateSecret } from '../clients/secrets.js'
import { type UserRecord, versionOf, WriteConflictError } from '../store/types.js'
import { hashPassword } from '../users/passwords.js'
import { checkPassword, type UserInput, UserValidationError, userRecord } from '../users/user.js'
import { type AdminDeps, nextVersion } from './deps.js'

/** A user as the admin API shows it (never the password hash). */
export interface UserJson {
  sub: string
  username: string
  email?: string
  email_verified?: boolean
  name?: string
  picture?: string
  roles: string[]
  disabled: boolean
  created_at: string
  updated_at: string
}

export function userJson(u: UserRecord): UserJson {
  return {
    sub: u.sub,
    username: u.username,
    ...(u.email === undefined ? {} : { email: u.email, email_verified: u.emailVerified === true }),
    ...(u.name === undefined ? {} : { name: u.name }),
    ...(u.picture === undefined ? {} : { picture: u.picture }),
    roles: [...u.roles],
    disabled: u.disabled,
    created_at: new Date(u.createdAt).toISOString(),
    updated_at: new Date(u.updatedAt).toISOString(),
  }
}

/** What a user list may be narrowed by. */
export interface UserFilter {
  /** A substring of the username, name or email (case-insensitive). */
  readonly q?: string
  readonly role?: string
  readonly disabled?: boolean
  readonly email?: string
}

export function matchesUser(u: UserRecord, f: UserFilter): boolean {
  if (f.role !== undefined && !u.roles.includes(f.role)) return false
  if (f.disabled !== undefined && u.disabled !== f.disabled) return false
  if (f.email !== undefined && u.email?.toLowerCase() !== f.email.toLowerCase()) return false
  if (f.q !== undefined) {
    const q = f.q.toLowerCase()
    if (![u.username, u.name ?? '', u.email ?? ''].some((v) => v.toLowerCase().includes(q))) return false
  }
  return true
}

/** Every field a new user may have (as in the bootstrap file). */
const USER_FIELDS = new Set(['username', 'password', 'email', 'email_verified', 'name', 'picture', 'roles', 'disabled'])

/** A check the caller makes on the user about to be written (only a full administrator grants `admin`). */
export type UserCheck = (record: UserRecord) => void

/**
 * Creates a user; without a `password` one is generated and returned, to be shown once. Rejects with
 * UsernameTakenError or UserValidationError.
 */
export async function createUser(
  deps: AdminDeps,
  input: Partial<UserInput>,
  by: AuditContext,
  check?: UserCheck,
): Promise<{ record: UserRecord; password?: string }> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new UserValidationError('a user must be a JSON object')
  }
  const unknown = Object.keys(input).find((f) => !USER_FIELDS.has(f))
  if (unknown !== undefined) throw new UserValidationError(`unknown field "${unknown}"`)
  const generated = input.password === undefined ? generateSecret() : undefined
  const record = await userRecord(
    { ...input, password: input.password ?? generated } as UserInput,
    undefined,
    deps.now(),
  )
  check?.(record)
  if (await deps.store.findUserByUsername(record.username)) throw new WriteConflictError('exists')
  await deps.audit.change(
    'user.created',
    by,
    { target: { type: 'user', id: record.sub, name: record.username }, details: { roles: record.roles } },
    (audit) => deps.store.putUser(record, { audit }),
  )
  return { record, ...(generated === undefined ? {} : { password: generated }) }
}

/** What an administrator may change about a user (the username stays: tokens and logs name users by it). */
export interface UserPatch {
  disabled?: boolean
  password?: string
  /** With a new password: keep the user's sessions (default: they end, as the CLI does). */
  keep_sessions?: boolean
  name?: string | null
  email?: string | null
  email_verified?: boolean
  picture?: string | null
  roles?: string[]
}

const PATCH_FIELDS = new Set([
  'disabled',
  'password',
  'keep_sessions',
  'name',
  'email',
  'email_verified',
  'picture',
  'roles',
])

function patched(existing: UserRecord, patch: UserPatch, now: number): UserRecord {
  const next: Record<string, unknown> = { ...existing, updatedAt: nextVersion(existing, now) }
  for (const field of ['name', 'email', 'picture'] as const) {
    const value = patch[field]
    if (value === undefined) continue
    if (value === null) {
      delete next[field]
      if (field === 'email') delete next.emailVerified
    } else if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
      throw new UserValidationError(`${field} must be a string of 1-512 characters, or null`)
    } else next[field] = value
  }
  if (typeof next.email === 'string' && !/^[^\s@]+@[^\s@]+$/.test(next.email)) {
    throw new UserValidationError('email is not an address')
  }
  if (patch.email_verified !== undefined) {
    if (typeof patch.email_verified !== 'boolean') throw new UserValidationError('email_verified must be true or false')
    if (next.email === undefined) throw new UserValidationError('email_verified needs an email')
    next.emailVerified = patch.email_verified
  } else if (patch.email !== undefined && patch.email !== existing.email) next.emailVerified = false
  if (patch.roles !== undefined) {
    if (!Array.isArray(patch.roles) || patch.roles.some((r) => typeof r !== 'string' || r === '')) {
      throw new UserValidationError('roles must be non-empty strings')
    }
    next.roles = [...new Set(patch.roles)]
  }
  if (patch.disabled !== undefined) {
    if (typeof patch.disabled !== 'boolean') throw new UserValidationError('disabled must be true or false')
    next.disabled = patch.disabled
  }
  return next as unknown as UserRecord
}

/** The event a change is: disabling or enabling first, then a password, else an update. */
function eventOf(existing: UserRecord, next: UserRecord, patch: UserPatch): AuditEventType {
  if (next.disabled !== existing.disabled) return next.disabled ? 'user.disabled' : 'user.enabled'
  if (patch.password !== undefined) return 'user.password_changed'
  return 'user.updated'
}

/**
 * Changes a user. Disabling refuses every token of theirs issued until now (at verifiers too: the revocation event
 * is published) and ends every session before the flag is set; a new password ends their sessions unless
 * `keep_sessions`. Rejects with WriteConflictError (`missing`, `stale`) or UserValidationError.
 *
 * @example
 * await updateUser(deps, sub, { disabled: true }, by, ifMatch)
 */
export async function updateUser(
  deps: AdminDeps,
  sub: string,
  patch: UserPatch,
  by: AuditContext,
  ifMatch: string | undefined,
  check?: UserCheck,
): Promise<{ record: UserRecord; sessionsEnded: number }> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new UserValidationError('a patch must be a JSON object')
  }
  const unknown = Object.keys(patch).find((f) => !PATCH_FIELDS.has(f))
  if (unknown !== undefined) {
    throw new UserValidationError(
      unknown === 'username' || unknown === 'sub' ? `${unknown} cannot change` : `unknown field "${unknown}"`,
    )
  }
  const existing = await deps.store.getUser(sub)
  if (!existing) throw new WriteConflictError('missing')
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== versionOf(existing)) throw new WriteConflictError('stale')
  let next = patched(existing, patch, deps.now())
  if (patch.password !== undefined) {
    checkPassword(patch.password, `user ${existing.username}`)
    next = { ...next, passwordHash: await hashPassword(patch.password) }
  }
  check?.(next)
  const type = eventOf(existing, next, patch)
  const fields = Object.keys(patch).filter((f) => f !== 'keep_sessions')
  let sessionsEnded = 0
  // Tokens first: the disabled flag must never be visible while their tokens still work somewhere.
  if (type === 'user.disabled') sessionsEnded = await deps.revoker.revokeUser(sub, by)
  await deps.audit.change(
    type,
    by,
    { target: { type: 'user', id: sub, name: existing.username }, details: { fields: fields.sort() } },
    (audit) => deps.store.updateUser(next, { ifMatch: versionOf(existing), audit }),
  )
  if (patch.password !== undefined && patch.keep_sessions !== true && !next.disabled) {
    sessionsEnded = await deps.revoker.endUserSessions(sub, 'admin', by)
  }
  return { record: next, sessionsEnded }
}

/** Deletes a user: every token of theirs is refused and every session ends, then the record and username go. */
export async function deleteUser(
  deps: AdminDeps,
  sub: string,
  by: AuditContext,
  ifMatch: string | undefined,
): Promise<void> {
  const existing = await deps.store.getUser(sub)
  if (!existing) throw new WriteConflictError('missing')
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== versionOf(existing)) throw new WriteConflictError('stale')
  await deps.revoker.revokeUser(sub, by)
  await deps.audit.change('user.deleted', by, { target: { type: 'user', id: sub, name: existing.username } }, (audit) =>
    deps.store.removeUser(sub, { ifMatch: versionOf(existing), audit }),
  )
}
