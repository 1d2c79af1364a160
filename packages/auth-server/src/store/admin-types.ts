// The store contract's administrative records: audit events, conditional writes, initial access tokens.
import { TollgateError } from '@tollgate/shared'

/** Who did something: an administrator (user or client), the CLI's operator, the server itself, or an unknown party. */
export interface AuditActor {
  readonly type: 'user' | 'client' | 'operator' | 'system' | 'anonymous' | 'initial_access_token'
  /** The user's `sub`, the client's `client_id`, the operator's OS user name, the initial access token's id. */
  readonly id?: string
  /** A readable name (a username). */
  readonly name?: string
  /** The client a user acted through. */
  readonly clientId?: string
}

/** What an event is about. */
export interface AuditTarget {
  readonly type: 'user' | 'client' | 'session' | 'access_token' | 'key' | 'initial_access_token' | 'address'
  readonly id: string
  readonly name?: string
}

/** Detail values: short identifiers, reasons, counts, field names — never a secret, token, assertion or password. */
export type AuditDetail = string | number | boolean | readonly string[]

/**
 * One audit event as the store keeps it. Built only by `audit/` from typed inputs, so no request body ever reaches
 * it.
 */
export interface AuditRecord {
  /** `client.created`, `user.sign_in_failed`, `session.revoked`, … (see docs/administration.md). */
  readonly type: string
  /** When it happened, epoch ms. */
  readonly time: number
  readonly actor: AuditActor
  readonly target?: AuditTarget
  readonly outcome: 'success' | 'failure'
  readonly requestId?: string
  readonly sourceIp?: string
  readonly details?: Readonly<Record<string, AuditDetail>>
}

/** An audit event with its id in the log: `<ms>-<seq>`, ordered, and a reader's cursor. */
export interface AuditEntry {
  readonly id: string
  readonly event: AuditRecord
}

/** The audit event that goes with a change, written in the same store call (atomically where the backend allows). */
export interface AuditWrite {
  readonly record: AuditRecord
  /** The log keeps entries this long (AUDIT_RETENTION). */
  readonly retentionMs: number
}

/** A range of the audit log: ids exclusive, times inclusive; oldest first unless `reverse`. */
export interface AuditRange {
  readonly after?: string
  readonly before?: string
  /** Epoch ms. */
  readonly since?: number
  readonly until?: number
  readonly limit: number
  readonly reverse?: boolean
}

/**
 * How a write to a client or user applies. `ifMatch`: `absent` creates only; `*` updates only; a version (the
 * record's `updatedAt`) updates only that version. Without it the write applies whatever is there.
 */
export interface WriteOptions {
  readonly ifMatch?: string
  readonly audit?: AuditWrite
}

/** A conditional write did not apply: the record exists (`absent` asked), is gone, or has another version. */
export class WriteConflictError extends TollgateError {
  constructor(readonly reason: 'exists' | 'missing' | 'stale') {
    super(
      'ERR_WRITE_CONFLICT',
      `the record ${reason === 'stale' ? 'has changed' : reason === 'exists' ? 'exists' : 'does not exist'}`,
    )
  }
}

/** The version a conditional write compares: when the record last changed (epoch ms; the creation time before). */
export const versionOf = (record: { readonly updatedAt?: number; readonly createdAt: number }): string =>
  String(record.updatedAt ?? record.createdAt)

/** An RFC 7591 initial access token as the store keeps it: the secret only as a keyed hash. */
export interface InitialAccessTokenRecord {
  readonly id: string
  readonly secretHash: string
  /** Epoch ms. */
  readonly createdAt: number
  readonly expiresAt: number
  readonly maxUses: number
  /** Registrations it may still make. */
  readonly usesLeft: number
  /** Who created it, as the audit log names them (`operator:alice`, `user:<sub>`). */
  readonly createdBy: string
  readonly description?: string
}

/** Why a conditional write must not apply to `current` (undefined: it applies). The memory store's check. */
export function writeConflict(
  current: { readonly updatedAt?: number; readonly createdAt: number } | undefined,
  ifMatch: string | undefined,
): WriteConflictError['reason'] | undefined {
  if (ifMatch === undefined) return undefined
  if (ifMatch === 'absent') return current ? 'exists' : undefined
  if (!current) return 'missing'
  return ifMatch === '*' || ifMatch === versionOf(current) ? undefined : 'stale'
}

/** Orders two log ids (`<ms>-<seq>`, the revocation and audit logs' cursors). */
export function compareLogIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number)
  const [bm = 0, bs = 0] = b.split('-').map(Number)
  return am - bm || as - bs
}
