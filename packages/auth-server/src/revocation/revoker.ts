// Ending things so that every verifier hears of it: each end is recorded in the revocation log (and as a denial the
// auth server reads), with its audit event, before the state it ends is deleted, so a retried request can never end
// something silently.
import type { AuditContext, AuditEventType, AuditFields } from '../audit/event.js'
import { SYSTEM } from '../audit/event.js'
import type { AuditLog } from '../audit/log.js'
import type {
  Revocation,
  RevocationRecord,
  SessionEndReason,
  SessionInfo,
  Store,
  WriteOptions,
} from '../store/types.js'
import { sessionId } from '../tokens/refresh-token.js'

/** Clock skew and verifier tolerance a denial outlives the tokens it covers by. */
export const DENIAL_MARGIN_MS = 60_000

export interface RevokerOptions {
  readonly store: Pick<
    Store,
    'recordRevocation' | 'revokeSession' | 'revokeUserSessions' | 'listSessions' | 'removeClient'
  >
  /** Seconds an access token lives (ACCESS_TOKEN_TTL): how long a session's or user's denial must last. */
  readonly accessTokenTtl: number
  readonly now: () => number
  readonly log?: { error(obj: object, msg: string): void }
  /** Where each revocation's audit event goes (written by the same store call). */
  readonly audit?: AuditLog
}

/** The audit event a revocation is: its type and what it names. */
function auditOf(revocation: Revocation): { type: AuditEventType; fields: AuditFields } {
  switch (revocation.kind) {
    case 'session': {
      const type =
        revocation.reason === 'reuse'
          ? 'refresh_token.reused'
          : revocation.reason === 'code_reuse'
            ? 'authorization_code.reused'
            : 'session.revoked'
      return {
        type,
        fields: {
          target: { type: 'session', id: revocation.sid },
          details: { reason: revocation.reason, sub: revocation.sub },
        },
      }
    }
    case 'token':
      return {
        type: 'access_token.revoked',
        fields: { target: { type: 'access_token', id: revocation.jti }, details: { sub: revocation.sub } },
      }
    case 'user':
      return { type: 'user.tokens_revoked', fields: { target: { type: 'user', id: revocation.sub } } }
    case 'client':
      return { type: 'client.tokens_revoked', fields: { target: { type: 'client', id: revocation.clientId } } }
  }
}

/**
 * Records revocations and ends what they name. `by` says who (for the audit log); the server itself by default.
 *
 * @example
 * await revoker.endSession(sub, fid, 'logout', { actor: { type: 'user', id: sub }, requestId: request.id })
 */
export class Revoker {
  readonly #store: RevokerOptions['store']
  readonly #now: () => number
  readonly #log: RevokerOptions['log']
  readonly #audit: AuditLog | undefined
  /** How long the log keeps an entry and a session/user/client denial lasts: the longest a token can live. */
  readonly windowMs: number

  constructor(options: RevokerOptions) {
    this.#store = options.store
    this.#now = options.now
    this.#log = options.log
    this.#audit = options.audit
    this.windowMs = options.accessTokenTtl * 1000 + DENIAL_MARGIN_MS
  }

  /** Records one revocation (log entry, denial, audit event); resolves with its log id. */
  async record(
    revocation: Revocation,
    until = this.#now() + this.windowMs,
    by: AuditContext = SYSTEM,
  ): Promise<string> {
    const record = { ...revocation, at: this.#now(), until } as RevocationRecord
    const { type, fields } = auditOf(revocation)
    const write = this.#audit?.write(type, by, fields)
    const id = await this.#store.recordRevocation(record, this.windowMs, write)
    if (write) this.#audit?.written(write)
    return id
  }

  /**
   * For something already ended elsewhere (a reuse detected inside the rotation script): recorded in the
   * background, retried for as long as the tokens it covers can live, logged if it never gets through.
   */
  recordLater(revocation: Revocation, by: AuditContext = SYSTEM): void {
    const until = this.#now() + this.windowMs
    const attempt = (delay: number) => {
      this.record(revocation, until, by).catch((err: unknown) => {
        if (this.#now() + delay >= until) {
          this.#log?.error({ err, kind: revocation.kind }, 'a revocation could not be recorded: verifiers do not know')
          return
        }
        setTimeout(() => attempt(Math.min(delay * 2, 10_000)), delay).unref()
      })
    }
    attempt(250)
  }

  /** Ends one session: recorded, then its family deleted. True when it was live. */
  async endSession(sub: string, fid: string, reason: SessionEndReason, by?: AuditContext): Promise<boolean> {
    await this.record({ kind: 'session', sid: sessionId(fid), sub, reason }, undefined, by)
    return this.#store.revokeSession(sub, fid)
  }

  /**
   * Ends the user's live session with this public id (`sid`, as `GET /session` lists it) that `match` accepts; undefined
   * when there is none, else the session and whether it was still live when ended.
   */
  async endSessionById(
    sub: string,
    sid: string,
    reason: SessionEndReason,
    match: (session: SessionInfo) => boolean = () => true,
    by?: AuditContext,
  ): Promise<{ session: SessionInfo; ended: boolean } | undefined> {
    const sessions = await this.#store.listSessions(sub, this.#now())
    const session = sessions.find((s) => sessionId(s.fid) === sid && match(s))
    if (!session) return undefined
    return { session, ended: await this.endSession(sub, session.fid, reason, by) }
  }

  /** Ends every live session of a user, each recorded first; the number ended. */
  async endUserSessions(sub: string, reason: SessionEndReason, by?: AuditContext): Promise<number> {
    const sessions = await this.#store.listSessions(sub, this.#now())
    let ended = 0
    for (const session of sessions) if (await this.endSession(sub, session.fid, reason, by)) ended++
    return ended
  }

  /** Revokes one access token until its `exp` (seconds). */
  async revokeAccessToken(jti: string, sub: string, exp: number, by?: AuditContext): Promise<void> {
    await this.record({ kind: 'token', jti, sub }, exp * 1000 + DENIAL_MARGIN_MS, by)
  }

  /** Every token of the user issued until now is refused, and every session ends (a disabled user). */
  async revokeUser(sub: string, by?: AuditContext): Promise<number> {
    await this.record({ kind: 'user', sub }, undefined, by)
    const sessions = await this.#store.listSessions(sub, this.#now())
    let ended = 0
    for (const session of sessions) if (await this.#store.revokeSession(sub, session.fid)) ended++
    return ended
  }

  /**
   * Removes a client; every token issued to it until now is refused. True when it existed. `options` make the
   * removal conditional and carry its own audit event.
   */
  async removeClient(clientId: string, by?: AuditContext, options?: WriteOptions): Promise<boolean> {
    await this.record({ kind: 'client', clientId }, undefined, by)
    return this.#store.removeClient(clientId, options)
  }
}
