// In-process hooks an operator embedding the server can use to react to security events.
import type { AuditEventJson } from './audit/event.js'

export type { AuditEventJson } from './audit/event.js'

/** A spent refresh token came back: its whole session was revoked. Carries no token material. */
export interface RefreshReuseEvent {
  readonly sub: string
  readonly clientId: string
  /** The public id of the revoked session (as listed by GET /session). */
  readonly sessionId: string
  /** Epoch milliseconds. */
  readonly at: number
}

/**
 * Hooks called after the fact; they cannot change the outcome, and a failing
 * hook is logged, never surfaced to the client.
 *
 * @example
 * buildApp({ ..., hooks: { onRefreshTokenReuse: (e) => store.revokeUserSessions(e.sub) } })
 */
export interface AuthHooks {
  onRefreshTokenReuse?(event: RefreshReuseEvent): void | Promise<void>
  /**
   * Every audit event this instance records (sign-ins, failures, lockouts, revocations, administrative changes), as
   * the admin API shows it: forward them to a SIEM. Never carries a secret, token or password.
   */
  onAuditEvent?(event: AuditEventJson): void
}
