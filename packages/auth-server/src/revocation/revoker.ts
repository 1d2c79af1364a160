// Ending things so that every verifier hears of it: each end is recorded in the revocation log (and as a denial the
// auth server reads) before the state it ends is deleted, so a retried request can never end something silently.
import type { Revocation, RevocationRecord, SessionEndReason, SessionInfo, Store } from '../store/types.js'
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
}

/**
 * Records revocations and ends what they name.
 *
 * @example
 * await revoker.endSession(sub, fid, 'logout')
 */
export class Revoker {
  readonly #store: RevokerOptions['store']
  readonly #now: () => number
  readonly #log: RevokerOptions['log']
  /** How long the log keeps an entry and a session/user/client denial lasts: the longest a token can live. */
  readonly windowMs: number

  constructor(options: RevokerOptions) {
    this.#store = options.store
    this.#now = options.now
    this.#log = options.log
    this.windowMs = options.accessTokenTtl * 1000 + DENIAL_MARGIN_MS
  }

  /** Records one revocation (log entry and denial); resolves with its log id. */
  record(revocation: Revocation, until = this.#now() + this.windowMs): Promise<string> {
    const record = { ...revocation, at: this.#now(), until } as RevocationRecord
    return this.#store.recordRevocation(record, this.windowMs)
  }

  /**
   * For something already ended elsewhere (a reuse detected inside the rotation script): recorded in the
   * background, retried for as long as the tokens it covers can live, logged if it never gets through.
   */
  recordLater(revocation: Revocation): void {
    const until = this.#now() + this.windowMs
    const attempt = (delay: number) => {
      this.record(revocation, until).catch((err: unknown) => {
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
  async endSession(sub: string, fid: string, reason: SessionEndReason): Promise<boolean> {
    await this.record({ kind: 'session', sid: sessionId(fid), sub, reason })
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
  ): Promise<{ session: SessionInfo; ended: boolean } | undefined> {
    const sessions = await this.#store.listSessions(sub, this.#now())
    const session = sessions.find((s) => sessionId(s.fid) === sid && match(s))
    if (!session) return undefined
    return { session, ended: await this.endSession(sub, session.fid, reason) }
  }

  /** Ends every live session of a user, each recorded first; the number ended. */
  async endUserSessions(sub: string, reason: SessionEndReason): Promise<number> {
    const sessions = await this.#store.listSessions(sub, this.#now())
    let ended = 0
    for (const session of sessions) if (await this.endSession(sub, session.fid, reason)) ended++
    return ended
  }

  /** Revokes one access token until its `exp` (seconds). */
  async revokeAccessToken(jti: string, sub: string, exp: number): Promise<void> {
    await this.record({ kind: 'token', jti, sub }, exp * 1000 + DENIAL_MARGIN_MS)
  }

  /** Every token of the user issued until now is refused, and every session ends (a disabled user). */
  async revokeUser(sub: string): Promise<number> {
    await this.record({ kind: 'user', sub })
    const sessions = await this.#store.listSessions(sub, this.#now())
    let ended = 0
    for (const session of sessions) if (await this.#store.revokeSession(sub, session.fid)) ended++
    return ended
  }

  /** Removes a client; every token issued to it until now is refused. True when it existed. */
  async removeClient(clientId: string): Promise<boolean> {
    await this.record({ kind: 'client', clientId })
    return this.#store.removeClient(clientId)
  }
}
