// In-process store for `pnpm start` with zero setup and for the test issuer; same semantics as Redis, nothing persisted.
import { StoreUnavailableError } from '../../errors.js'
import {
  type AuthorizationCode,
  type ClientRecord,
  type FailurePolicy,
  type FailureState,
  type NewSession,
  normalizeUsername,
  type RateCount,
  type RedeemResult,
  type RefreshedSession,
  type RefreshTokenInfo,
  type RotateRequest,
  type RotateResult,
  type SessionInfo,
  type Store,
  UsernameTakenError,
  type UserRecord,
} from '../types.js'

interface Family {
  readonly sub: string
  readonly fid: string
  readonly clientId: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  readonly authTime: number
  readonly createdAt: number
  readonly absoluteAt: number
  readonly userAgent?: string
  current: string
  previous?: string
  rotatedAt?: number
  sealed?: string
  lastUsedAt: number
  expiresAt: number
}

const subset = (requested: readonly string[] | undefined, granted: readonly string[]) =>
  requested === undefined || requested.every((item) => granted.includes(item))

export interface MemoryStoreOptions {
  /** Clock in epoch milliseconds; TTLs are measured against it. */
  readonly now?: () => number
}

const clone = <T>(value: T): T => structuredClone(value)

/**
 * A {@link Store} kept in maps. Records are copied in and out so callers can
 * never mutate stored state, as with a real backend.
 *
 * @example
 * const store = new MemoryStore()
 * await store.putClient(client)
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const
  protected readonly now: () => number
  readonly #users = new Map<string, UserRecord>()
  readonly #usernames = new Map<string, string>()
  readonly #clients = new Map<string, ClientRecord>()
  readonly #families = new Map<string, Family>()
  readonly #sessions = new Map<string, Set<string>>()
  readonly #revoked = new Map<string, number>()
  readonly #failures = new Map<
    string,
    { count: number; first: number; last: number; lockedUntil: number; expiresAt: number }
  >()
  readonly #codes = new Map<string, { code: AuthorizationCode; used: boolean; expiresAt: number }>()
  readonly #rates = new Map<string, { count: number; resetAt: number }>()
  readonly #sweeper: NodeJS.Timeout

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now
    // Expired entries are also dropped when touched; the sweep only bounds memory.
    this.#sweeper = setInterval(() => this.#sweep(), 60_000)
    this.#sweeper.unref()
  }

  async ping(): Promise<void> {}

  /** The data lives and dies with this process: it can never come back empty under a running server. */
  async ensureMarker(): Promise<boolean> {
    return true
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
  }

  #sweep(): void {
    const now = this.now()
    for (const family of this.#families.values()) if (family.expiresAt <= now) this.#drop(family.sub, family.fid)
    for (const [jti, until] of this.#revoked) if (until <= now) this.#revoked.delete(jti)
    for (const [key, entry] of this.#failures) if (entry.expiresAt <= now) this.#failures.delete(key)
    for (const [hash, entry] of this.#codes) if (entry.expiresAt <= now) this.#codes.delete(hash)
    for (const [key, entry] of this.#rates) if (entry.resetAt <= now) this.#rates.delete(key)
  }

  /** The same contract as Redis: a write whose caller has stopped waiting is not applied. */
  #checkDeadline(deadline: number | undefined): void {
    if (deadline !== undefined && Date.now() > deadline) {
      throw new StoreUnavailableError('the store reached the command after its deadline')
    }
  }

  #family(sub: string, fid: string): Family | undefined {
    const family = this.#families.get(`${sub}/${fid}`)
    if (family && family.expiresAt <= this.now()) {
      this.#drop(sub, fid)
      return undefined
    }
    return family
  }

  #drop(sub: string, fid: string): boolean {
    const existed = this.#families.delete(`${sub}/${fid}`)
    const index = this.#sessions.get(sub)
    index?.delete(fid)
    if (index?.size === 0) this.#sessions.delete(sub)
    return existed
  }

  async putUser(user: UserRecord): Promise<void> {
    const key = normalizeUsername(user.username)
    const owner = this.#usernames.get(key)
    if (owner !== undefined && owner !== user.sub) throw new UsernameTakenError(user.username)
    const previous = this.#users.get(user.sub)
    if (previous && normalizeUsername(previous.username) !== key)
      this.#usernames.delete(normalizeUsername(previous.username))
    this.#usernames.set(key, user.sub)
    this.#users.set(user.sub, clone(user))
  }

  async getUser(sub: string): Promise<UserRecord | undefined> {
    const user = this.#users.get(sub)
    return user && clone(user)
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    const sub = this.#usernames.get(normalizeUsername(username))
    return sub === undefined ? undefined : this.getUser(sub)
  }

  async listUsers(): Promise<UserRecord[]> {
    return [...this.#users.values()].map(clone).sort((a, b) => a.username.localeCompare(b.username))
  }

  async putClient(client: ClientRecord): Promise<void> {
    this.#clients.set(client.clientId, clone(client))
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const client = this.#clients.get(clientId)
    return client && clone(client)
  }

  async listClients(): Promise<ClientRecord[]> {
    return [...this.#clients.values()].map(clone).sort((a, b) => a.clientId.localeCompare(b.clientId))
  }

  async removeClient(clientId: string): Promise<boolean> {
    return this.#clients.delete(clientId)
  }

  async createSession(session: NewSession): Promise<number> {
    this.#checkDeadline(session.deadline)
    const absoluteAt = session.now + session.absoluteTtlMs
    const expiresAt = Math.min(session.now + session.idleTtlMs, absoluteAt)
    this.#families.set(`${session.sub}/${session.fid}`, {
      sub: session.sub,
      fid: session.fid,
      clientId: session.clientId,
      scope: [...session.scope],
      audience: [...session.audience],
      authTime: session.authTime,
      createdAt: session.now,
      absoluteAt,
      current: session.tokenHash,
      lastUsedAt: session.now,
      expiresAt,
      ...(session.userAgent ? { userAgent: session.userAgent } : {}),
    })
    const index = this.#sessions.get(session.sub) ?? new Set<string>()
    index.add(session.fid)
    this.#sessions.set(session.sub, index)
    return expiresAt
  }

  async rotateRefresh(request: RotateRequest): Promise<RotateResult> {
    this.#checkDeadline(request.deadline)
    const { now } = request
    const family = this.#family(request.sub, request.fid)
    if (!family) return { outcome: 'invalid' }
    if (now >= family.absoluteAt) {
      this.#drop(request.sub, request.fid)
      return { outcome: 'invalid' }
    }
    const isCurrent = request.presentedHash === family.current
    const isParent =
      family.previous !== undefined &&
      request.presentedHash === family.previous &&
      now - (family.rotatedAt ?? 0) <= request.graceMs
    if (!isCurrent && !isParent) {
      this.#drop(request.sub, request.fid)
      return { outcome: 'reuse', clientId: family.clientId }
    }
    if (family.clientId !== request.clientId) return { outcome: 'wrong_client' }
    const user = this.#users.get(request.sub)
    if (!user || user.disabled) {
      this.#drop(request.sub, request.fid)
      return { outcome: 'disabled' }
    }
    if (!subset(request.scope, family.scope)) return { outcome: 'invalid_scope' }
    if (!subset(request.audience, family.audience)) return { outcome: 'invalid_target' }
    const expiresAt = Math.min(now + request.idleTtlMs, family.absoluteAt)
    const session: RefreshedSession = {
      scope: [...family.scope],
      audience: [...family.audience],
      authTime: family.authTime,
      expiresAt,
      user: {
        sub: user.sub,
        username: user.username,
        roles: [...user.roles],
        ...(user.name === undefined ? {} : { name: user.name }),
        ...(user.email === undefined ? {} : { email: user.email, emailVerified: user.emailVerified ?? false }),
        ...(user.picture === undefined ? {} : { picture: user.picture }),
      },
    }
    if (isParent && !isCurrent) {
      return { outcome: 'replay', sealedSuccessor: family.sealed ?? '', currentHash: family.current, session }
    }
    family.previous = family.current
    family.current = request.successorHash
    family.rotatedAt = now
    family.sealed = request.sealedSuccessor
    family.lastUsedAt = now
    family.expiresAt = expiresAt
    return { outcome: 'rotated', session }
  }

  async inspectRefresh(sub: string, fid: string, tokenHash: string): Promise<RefreshTokenInfo | undefined> {
    const family = this.#family(sub, fid)
    if (!family || family.current !== tokenHash) return undefined
    return {
      clientId: family.clientId,
      scope: [...family.scope],
      audience: [...family.audience],
      createdAt: family.createdAt,
      expiresAt: family.expiresAt,
    }
  }

  async revokeSession(sub: string, fid: string): Promise<boolean> {
    const live = this.#family(sub, fid) !== undefined
    this.#drop(sub, fid)
    return live
  }

  async revokeUserSessions(sub: string): Promise<number> {
    let ended = 0
    for (const fid of [...(this.#sessions.get(sub) ?? [])]) {
      if (this.#family(sub, fid)) ended++
      this.#drop(sub, fid)
    }
    return ended
  }

  async listSessions(sub: string, _now: number): Promise<SessionInfo[]> {
    const out: SessionInfo[] = []
    for (const fid of [...(this.#sessions.get(sub) ?? [])]) {
      const family = this.#family(sub, fid)
      if (!family) continue
      out.push({
        fid,
        clientId: family.clientId,
        createdAt: family.createdAt,
        lastUsedAt: family.lastUsedAt,
        expiresAt: family.expiresAt,
        scope: [...family.scope],
        ...(family.userAgent ? { userAgent: family.userAgent } : {}),
      })
    }
    return out.sort((a, b) => a.createdAt - b.createdAt)
  }

  async putCode(codeHash: string, code: AuthorizationCode, ttlMs: number): Promise<void> {
    this.#codes.set(codeHash, { code: clone(code), used: false, expiresAt: this.now() + ttlMs })
  }

  async redeemCode(codeHash: string, deadline?: number): Promise<RedeemResult> {
    this.#checkDeadline(deadline)
    const entry = this.#codes.get(codeHash)
    if (!entry || entry.expiresAt <= this.now()) return { outcome: 'invalid' }
    const outcome = entry.used ? 'reused' : 'ok'
    entry.used = true
    return { outcome, code: clone(entry.code) }
  }

  async recordFailure(key: string, now: number, policy: FailurePolicy): Promise<FailureState> {
    const entry = this.#failures.get(key)
    let { count, first, lockedUntil } = entry ?? { count: 0, first: now, lockedUntil: 0 }
    if (now - first > policy.windowMs && lockedUntil <= now) {
      count = 0
      first = now
    }
    count++
    if (policy.maxFailures > 0 && count >= policy.maxFailures && lockedUntil <= now)
      lockedUntil = now + policy.lockoutMs
    const expiresAt = now + Math.max(policy.windowMs, lockedUntil - now) + 60_000
    this.#failures.set(key, { count, first, last: now, lockedUntil, expiresAt })
    return { count, last: now, lockedUntil }
  }

  async failureState(key: string, now: number, windowMs: number): Promise<FailureState> {
    const entry = this.#failures.get(key)
    if (!entry || (now - entry.first > windowMs && entry.lockedUntil <= now))
      return { count: 0, last: 0, lockedUntil: 0 }
    return { count: entry.count, last: entry.last, lockedUntil: entry.lockedUntil }
  }

  async clearFailures(key: string): Promise<void> {
    this.#failures.delete(key)
  }

  async countRequest(key: string, windowMs: number): Promise<RateCount> {
    const now = this.now()
    let entry = this.#rates.get(key)
    if (!entry || entry.resetAt <= now) {
      entry = { count: 0, resetAt: now + windowMs }
      this.#rates.set(key, entry)
    }
    entry.count++
    return { count: entry.count, ttlMs: entry.resetAt - now }
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    if (expiresAt > this.now()) this.#revoked.set(jti, expiresAt)
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    const until = this.#revoked.get(jti)
    if (until === undefined) return false
    if (until <= this.now()) {
      this.#revoked.delete(jti)
      return false
    }
    return true
  }
}
