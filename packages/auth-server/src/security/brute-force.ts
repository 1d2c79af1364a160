// Brute-force protection for password and client-secret checks: progressive delay, then lockout; per account and per IP.
import { createHash } from 'node:crypto'
import type { Config } from '../config.js'
import { TooManyRequests } from '../errors.js'
import type { AuthMetrics } from '../metrics.js'
import { type FailureState, normalizeUsername, type Store } from '../store/types.js'

const MAX_DELAY_MS = 60_000

/**
 * Counters live in the store, so limits hold across instances. An account's
 * counter is keyed by the username as typed (hashed), whether or not it exists,
 * so throttling reveals nothing about which usernames are real.
 *
 * Only password logins are throttled: a refresh of an existing session never
 * is, so locking someone's account cannot sign them out of a trusted session.
 */
export class BruteForceGuard {
  readonly #store: Store
  readonly #policy: Config['login']
  readonly #now: () => number
  readonly #metrics: AuthMetrics
  /** IP locks this instance has recorded, so the client-secret hot path needs no store round trip. */
  readonly #lockedIps = new Map<string, number>()

  constructor(store: Store, policy: Config['login'], now: () => number, metrics: AuthMetrics) {
    this.#store = store
    this.#policy = policy
    this.#now = now
    this.#metrics = metrics
  }

  #userKey(username: string): string {
    return `user:${createHash('sha256').update(normalizeUsername(username)).digest('base64url').slice(0, 32)}`
  }

  #ipKey(ip: string): string {
    return `ip:${ip}`
  }

  #refuse(reason: 'delay' | 'account_locked' | 'ip_locked', waitMs: number): never {
    this.#metrics.throttled.inc({ reason })
    throw new TooManyRequests(waitMs / 1000, 'too many failed attempts, try again later')
  }

  #checkLock(state: FailureState, reason: 'account_locked' | 'ip_locked', now: number): void {
    if (state.lockedUntil > now) this.#refuse(reason, state.lockedUntil - now)
  }

  /** Throws TooManyRequests (429, Retry-After) when this login attempt must not be tried now. */
  async checkUser(username: string, ip: string): Promise<void> {
    const now = this.#now()
    const [user, source] = await Promise.all([
      this.#store.failureState(this.#userKey(username), now, this.#policy.windowMs),
      this.#store.failureState(this.#ipKey(ip), now, this.#policy.windowMs),
    ])
    this.#checkLock(user, 'account_locked', now)
    this.#remember(ip, source.lockedUntil)
    this.#checkLock(source, 'ip_locked', now)
    if (user.count >= this.#policy.delayAfter) {
      const wait = Math.min(1000 * 2 ** (user.count - this.#policy.delayAfter), MAX_DELAY_MS)
      const remaining = user.last + wait - now
      if (remaining > 0) this.#refuse('delay', remaining)
    }
  }

  /** Counts a failed sign-in; says until when the account or the IP is locked when this failure locked it. */
  async userFailed(username: string, ip: string): Promise<{ account?: number; ip?: number }> {
    const now = this.#now()
    const { windowMs, maxFailures, lockoutMs, ipMaxFailures } = this.#policy
    const [user, source] = await Promise.all([
      this.#store.recordFailure(this.#userKey(username), now, { windowMs, maxFailures, lockoutMs }),
      this.#store.recordFailure(this.#ipKey(ip), now, { windowMs, maxFailures: ipMaxFailures, lockoutMs }),
    ])
    this.#remember(ip, source.lockedUntil)
    const accountLocked = user.lockedUntil > now && user.count === maxFailures
    if (accountLocked) this.#metrics.lockouts.inc()
    const ipLocked = source.lockedUntil > now && source.count === ipMaxFailures
    return { ...(accountLocked ? { account: user.lockedUntil } : {}), ...(ipLocked ? { ip: source.lockedUntil } : {}) }
  }

  async userSucceeded(username: string): Promise<void> {
    await this.#store.clearFailures(this.#userKey(username))
  }

  /**
   * Client secrets are throttled per IP only: they are high-entropy, so guessing
   * one is hopeless, and a per-client lock would let anyone lock a service out.
   */
  async checkIp(ip: string): Promise<void> {
    const now = this.#now()
    const state = await this.#store.failureState(this.#ipKey(ip), now, this.#policy.windowMs)
    this.#remember(ip, state.lockedUntil)
    this.#checkLock(state, 'ip_locked', now)
  }

  /** Counts a wrong client secret from an IP; until when the IP is locked when this failure locked it. */
  async ipFailed(ip: string): Promise<number | undefined> {
    const { windowMs, lockoutMs, ipMaxFailures } = this.#policy
    const now = this.#now()
    const state = await this.#store.recordFailure(this.#ipKey(ip), now, {
      windowMs,
      maxFailures: ipMaxFailures,
      lockoutMs,
    })
    this.#remember(ip, state.lockedUntil)
    return state.lockedUntil > now && state.count === ipMaxFailures ? state.lockedUntil : undefined
  }

  #remember(ip: string, lockedUntil: number): void {
    if (lockedUntil <= this.#now()) return
    if (this.#lockedIps.size >= 10_000) this.#lockedIps.delete(this.#lockedIps.keys().next().value as string)
    this.#lockedIps.set(ip, lockedUntil)
  }

  /**
   * For a request that presented a correct client secret: refused only while an
   * IP lock recorded by this instance holds. A lock recorded by another instance
   * is seen on this instance's next failure from that IP — guessing 256-bit
   * secrets is hopeless anyway, the lock is defence in depth.
   */
  checkIpLocally(ip: string): void {
    const until = this.#lockedIps.get(ip)
    if (until === undefined) return
    if (until <= this.#now()) this.#lockedIps.delete(ip)
    else this.#refuse('ip_locked', until - this.#now())
  }
}
