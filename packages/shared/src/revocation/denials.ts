// What a verifier has heard was revoked: tokens by jti, sessions by sid, users and clients as of a time — each held
// until no token it covers can still be valid, then forgotten.
import type { AccessTokenClaims } from '../claims.js'

/**
 * The denial set. Checks cost four Map lookups, none while it is empty; entries are swept once they pass their
 * `until`, so memory stays bounded by the revocations of one token lifetime (about 100 bytes each, see the bench).
 *
 * @example
 * denials.session('sid-1', Date.now() + 360_000)
 * denials.denies(claims, Date.now()) // true for a token of that session
 */
export class Denials {
  readonly #tokens = new Map<string, number>()
  readonly #sessions = new Map<string, number>()
  /** id → [as of (ms), until (ms)] */
  readonly #users = new Map<string, [number, number]>()
  readonly #clients = new Map<string, [number, number]>()

  get size(): number {
    return this.#tokens.size + this.#sessions.size + this.#users.size + this.#clients.size
  }

  token(jti: string, until: number): void {
    this.#tokens.set(jti, Math.max(until, this.#tokens.get(jti) ?? 0))
  }

  session(sid: string, until: number): void {
    this.#sessions.set(sid, Math.max(until, this.#sessions.get(sid) ?? 0))
  }

  /** Every token of `sub` issued at or before `at`. */
  user(sub: string, at: number, until: number): void {
    this.#asOf(this.#users, sub, at, until)
  }

  /** Every token issued to `clientId` at or before `at`. */
  client(clientId: string, at: number, until: number): void {
    this.#asOf(this.#clients, clientId, at, until)
  }

  #asOf(map: Map<string, [number, number]>, id: string, at: number, until: number): void {
    const previous = map.get(id)
    map.set(id, [Math.max(at, previous?.[0] ?? 0), Math.max(until, previous?.[1] ?? 0)])
  }

  /** Whether a verified token was revoked (as of `now`). */
  denies(claims: AccessTokenClaims, now: number): boolean {
    if (this.#tokens.size > 0) {
      const until = this.#tokens.get(claims.jti)
      if (until !== undefined && until > now) return true
    }
    if (this.#sessions.size > 0 && typeof claims.sid === 'string') {
      const until = this.#sessions.get(claims.sid)
      if (until !== undefined && until > now) return true
    }
    const issued = claims.iat * 1000
    if (this.#users.size > 0) {
      const entry = this.#users.get(claims.sub)
      if (entry && entry[1] > now && issued <= entry[0]) return true
    }
    if (this.#clients.size > 0) {
      const entry = this.#clients.get(claims.client_id)
      if (entry && entry[1] > now && issued <= entry[0]) return true
    }
    return false
  }

  /** Forgets every denial past its `until`. */
  sweep(now: number): void {
    for (const map of [this.#tokens, this.#sessions]) for (const [k, until] of map) if (until <= now) map.delete(k)
    for (const map of [this.#users, this.#clients]) for (const [k, [, until]] of map) if (until <= now) map.delete(k)
  }
}
