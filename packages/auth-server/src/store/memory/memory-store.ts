// In-process store for `pnpm start` with zero setup and for the test issuer; same semantics as Redis, nothing persisted.
import { StoreUnavailableError } from '../../errors.js'
import {
  type AuditEntry,
  type AuditRange,
  type AuditWrite,
  type AuthorizationCode,
  type ClientRecord,
  type DeviceAuthorization,
  type DeviceDecision,
  type DevicePoll,
  type FailurePolicy,
  type FailureState,
  type InitialAccessTokenRecord,
  type NewSession,
  normalizeUsername,
  type PushedRequest,
  type RateCount,
  type RedeemResult,
  type RefreshTokenInfo,
  type RevocationEntry,
  type RevocationRecord,
  type RotateRequest,
  type RotateResult,
  type SessionInfo,
  type Store,
  UsernameTakenError,
  type UserRecord,
  WriteConflictError,
  type WriteOptions,
  writeConflict,
} from '../types.js'
import { MemoryAudit } from './audit.js'
import { MemoryAuthorizations } from './authorizations.js'
import { MemoryRevocations } from './revocations.js'
import { MemorySessions } from './sessions.js'

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
  readonly #sessions: MemorySessions
  readonly #revocations: MemoryRevocations
  readonly #failures = new Map<
    string,
    { count: number; first: number; last: number; lockedUntil: number; expiresAt: number }
  >()
  readonly #codes = new Map<string, { code: AuthorizationCode; used: boolean; expiresAt: number }>()
  readonly #rates = new Map<string, { count: number; resetAt: number }>()
  readonly #proofIds = new Map<string, number>()
  readonly #audit = new MemoryAudit()
  readonly #initialTokens = new Map<string, InitialAccessTokenRecord>()
  /** Public session id → where the session lives. */
  readonly #sessionIndex = new Map<string, { sub: string; fid: string; until: number }>()
  readonly #assertionIds = new Map<string, number>()
  readonly #authorizations: MemoryAuthorizations
  readonly #sweeper: NodeJS.Timeout

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now
    this.#sessions = new MemorySessions((sub) => this.#users.get(sub), this.now)
    this.#revocations = new MemoryRevocations(this.now)
    this.#authorizations = new MemoryAuthorizations(this.now)
    // Expired entries are also dropped when touched; the sweep only bounds memory.
    this.#sweeper = setInterval(() => this.#sweep(), 60_000)
    this.#sweeper.unref()
  }

  async ping(): Promise<void> {}

  /**
   * Forgets every user, client, session, code and counter — the development issuer's reset. The revocation and audit
   * logs are kept, so a follower never sees its cursor go backwards.
   */
  reset(): void {
    this.#initialTokens.clear()
    this.#sessionIndex.clear()
    this.#users.clear()
    this.#usernames.clear()
    this.#clients.clear()
    this.#sessions.clear()
    this.#failures.clear()
    this.#codes.clear()
    this.#rates.clear()
    this.#proofIds.clear()
    this.#assertionIds.clear()
    this.#authorizations.reset()
  }

  /** The data lives and dies with this process: it can never come back empty under a running server. */
  async ensureMarker(): Promise<boolean> {
    return true
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
  }

  #sweep(): void {
    const now = this.now()
    this.#sessions.sweep(now)
    this.#revocations.sweep(now)
    for (const [key, entry] of this.#failures) if (entry.expiresAt <= now) this.#failures.delete(key)
    for (const [hash, entry] of this.#codes) if (entry.expiresAt <= now) this.#codes.delete(hash)
    for (const [key, entry] of this.#rates) if (entry.resetAt <= now) this.#rates.delete(key)
    for (const [id, until] of this.#proofIds) if (until <= now) this.#proofIds.delete(id)
    for (const [id, token] of this.#initialTokens) if (token.expiresAt <= now) this.#initialTokens.delete(id)
    for (const [sid, entry] of this.#sessionIndex) if (entry.until <= now) this.#sessionIndex.delete(sid)
    for (const [id, until] of this.#assertionIds) if (until <= now) this.#assertionIds.delete(id)
    this.#authorizations.sweep(now)
  }

  /** Applies a write's condition, then its audit event: one synchronous step, so nothing runs in between. */
  #conditional(current: ClientRecord | UserRecord | undefined, options: WriteOptions | undefined): void {
    const conflict = writeConflict(current, options?.ifMatch)
    if (conflict) throw new WriteConflictError(conflict)
  }

  #audited(options: WriteOptions | undefined): void {
    if (options?.audit) this.#audit.append(options.audit)
  }

  /** The same contract as Redis: a write whose caller has stopped waiting is not applied. */
  #checkDeadline(deadline: number | undefined): void {
    if (deadline !== undefined && Date.now() > deadline) {
      throw new StoreUnavailableError('the store reached the command after its deadline')
    }
  }
  async putUser(user: UserRecord, options?: WriteOptions): Promise<void> {
    const key = normalizeUsername(user.username)
    const owner = this.#usernames.get(key)
    if (owner !== undefined && owner !== user.sub) throw new UsernameTakenError(user.username)
    const previous = this.#users.get(user.sub)
    if (previous && normalizeUsername(previous.username) !== key)
      this.#usernames.delete(normalizeUsername(previous.username))
    this.#usernames.set(key, user.sub)
    this.#users.set(user.sub, clone(user))
    this.#audited(options)
  }

  async updateUser(user: UserRecord, options?: WriteOptions): Promise<void> {
    const current = this.#users.get(user.sub)
    this.#conditional(current, { ifMatch: options?.ifMatch ?? '*' })
    if (normalizeUsername((current as UserRecord).username) !== normalizeUsername(user.username)) {
      throw new TypeError('updateUser cannot rename a user (use putUser)')
    }
    this.#users.set(user.sub, clone(user))
    this.#audited(options)
  }

  async removeUser(sub: string, options?: WriteOptions): Promise<void> {
    const current = this.#users.get(sub)
    this.#conditional(current, { ifMatch: options?.ifMatch ?? '*' })
    this.#users.delete(sub)
    const name = normalizeUsername((current as UserRecord).username)
    if (this.#usernames.get(name) === sub) this.#usernames.delete(name)
    this.#audited(options)
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

  async putClient(client: ClientRecord, options?: WriteOptions): Promise<void> {
    this.#conditional(this.#clients.get(client.clientId), options)
    this.#clients.set(client.clientId, clone(client))
    this.#audited(options)
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const client = this.#clients.get(clientId)
    return client && clone(client)
  }

  async listClients(): Promise<ClientRecord[]> {
    return [...this.#clients.values()].map(clone).sort((a, b) => a.clientId.localeCompare(b.clientId))
  }

  async removeClient(clientId: string, options?: WriteOptions): Promise<boolean> {
    this.#conditional(this.#clients.get(clientId), options)
    const removed = this.#clients.delete(clientId)
    if (removed) this.#audited(options)
    return removed
  }
  async createSession(session: NewSession): Promise<number> {
    this.#checkDeadline(session.deadline)
    const expiresAt = this.#sessions.createSession(session)
    if (session.sid !== undefined) {
      this.#sessionIndex.set(session.sid, {
        sub: session.sub,
        fid: session.fid,
        until: session.now + session.absoluteTtlMs,
      })
    }
    return expiresAt
  }

  async rotateRefresh(request: RotateRequest): Promise<RotateResult> {
    this.#checkDeadline(request.deadline)
    return this.#sessions.rotateRefresh(request)
  }

  async inspectRefresh(sub: string, fid: string, tokenHash: string): Promise<RefreshTokenInfo | undefined> {
    return this.#sessions.inspectRefresh(sub, fid, tokenHash)
  }

  async revokeSession(sub: string, fid: string): Promise<boolean> {
    return this.#sessions.revokeSession(sub, fid)
  }

  async revokeUserSessions(sub: string): Promise<number> {
    return this.#sessions.revokeUserSessions(sub)
  }

  async listSessions(sub: string, now: number): Promise<SessionInfo[]> {
    return this.#sessions.listSessions(sub, now)
  }

  async findSession(sid: string, now: number): Promise<{ sub: string; session: SessionInfo } | undefined> {
    const entry = this.#sessionIndex.get(sid)
    if (!entry) return undefined
    const session = this.#sessions.listSessions(entry.sub, now).find((s) => s.fid === entry.fid)
    return session && { sub: entry.sub, session }
  }

  async putCode(codeHash: string, code: AuthorizationCode, expiresAt: number): Promise<void> {
    this.#codes.set(codeHash, { code: clone(code), used: false, expiresAt })
  }

  async redeemCode(codeHash: string, clientId: string, deadline?: number, jkt?: string): Promise<RedeemResult> {
    this.#checkDeadline(deadline)
    const entry = this.#codes.get(codeHash)
    if (!entry || entry.expiresAt <= this.now()) return { outcome: 'invalid' }
    if (entry.code.clientId !== clientId) return { outcome: 'wrong_client' }
    if (entry.code.dpopJkt !== undefined && entry.code.dpopJkt !== jkt) return { outcome: 'wrong_key' }
    const outcome = entry.used ? 'reused' : 'ok'
    entry.used = true
    return { outcome, code: clone(entry.code) }
  }

  async putPushedRequest(id: string, request: PushedRequest, expiresAt: number): Promise<void> {
    await this.#authorizations.putPushedRequest(id, request, expiresAt)
  }

  async takePushedRequest(id: string, clientId: string, deadline?: number): Promise<PushedRequest | undefined> {
    this.#checkDeadline(deadline)
    return this.#authorizations.takePushedRequest(id, clientId)
  }

  createDeviceAuthorization(hash: string, authorization: DeviceAuthorization, keepUntil: number): Promise<boolean> {
    return this.#authorizations.createDeviceAuthorization(hash, authorization, keepUntil)
  }

  deviceByUserCode(userCode: string): Promise<DeviceAuthorization | undefined> {
    return this.#authorizations.deviceByUserCode(userCode)
  }

  decideDevice(userCode: string, decision: DeviceDecision): Promise<boolean> {
    return this.#authorizations.decideDevice(userCode, decision)
  }

  async pollDevice(hash: string, clientId: string, now: number, deadline?: number): Promise<DevicePoll> {
    this.#checkDeadline(deadline)
    return this.#authorizations.pollDevice(hash, clientId, now)
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

  async claimProofId(id: string, ttlMs: number): Promise<boolean> {
    const now = this.now()
    const until = this.#proofIds.get(id)
    if (until !== undefined && until > now) return false
    this.#proofIds.set(id, now + ttlMs)
    return true
  }

  async claimAssertionId(id: string, ttlMs: number): Promise<boolean> {
    const now = this.now()
    const until = this.#assertionIds.get(id)
    if (until !== undefined && until > now) return false
    this.#assertionIds.set(id, now + ttlMs)
    return true
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

  async recordRevocation(revocation: RevocationRecord, retentionMs: number, audit?: AuditWrite): Promise<string> {
    const id = this.#revocations.record(revocation, retentionMs)
    if (audit) this.#audit.append(audit)
    return id
  }

  async revocationState(names: { jti: string; sid?: string; sub: string; clientId: string }) {
    return this.#revocations.state(names)
  }

  async readRevocations(after: string | undefined, limit: number): Promise<RevocationEntry[]> {
    return this.#revocations.read(after, limit)
  }

  followRevocations(after: string | undefined, onEntries: (entries: RevocationEntry[]) => void) {
    return this.#revocations.follow(after, onEntries)
  }

  async appendAudit(write: AuditWrite): Promise<string> {
    return this.#audit.append(write)
  }

  async readAudit(range: AuditRange): Promise<AuditEntry[]> {
    return this.#audit.read(range)
  }

  followAudit(after: string | undefined, onEntries: (entries: AuditEntry[]) => void) {
    return this.#audit.follow(after, onEntries)
  }

  async putInitialAccessToken(token: InitialAccessTokenRecord, options?: WriteOptions): Promise<void> {
    this.#initialTokens.set(token.id, clone(token))
    this.#audited(options)
  }

  async getInitialAccessToken(id: string, now: number): Promise<InitialAccessTokenRecord | undefined> {
    const token = this.#initialTokens.get(id)
    return token && token.expiresAt > now && token.usesLeft > 0 ? clone(token) : undefined
  }

  async useInitialAccessToken(id: string, now: number): Promise<number | undefined> {
    const token = this.#initialTokens.get(id)
    if (!token || token.expiresAt <= now || token.usesLeft <= 0) return undefined
    const usesLeft = token.usesLeft - 1
    if (usesLeft === 0) this.#initialTokens.delete(id)
    else this.#initialTokens.set(id, { ...token, usesLeft })
    return usesLeft
  }

  async listInitialAccessTokens(now: number): Promise<InitialAccessTokenRecord[]> {
    return [...this.#initialTokens.values()]
      .filter((t) => t.expiresAt > now && t.usesLeft > 0)
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
      .map(clone)
  }

  async removeInitialAccessToken(id: string, options?: WriteOptions): Promise<boolean> {
    const removed = this.#initialTokens.delete(id)
    if (removed) this.#audited(options)
    return removed
  }
}
