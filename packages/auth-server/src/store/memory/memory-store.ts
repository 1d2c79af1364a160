// In-process store for `pnpm start` with zero setup and for the test issuer; same semantics as Redis, nothing persisted.
import { StoreUnavailableError } from '../../errors.js'
import {
  type AuthorizationCode,
  type ClientRecord,
  type DeviceAuthorization,
  type DeviceDecision,
  type DevicePoll,
  type FailurePolicy,
  type FailureState,
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
} from '../types.js'
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
   * Forgets every user, client, session, code and counter — the development issuer's reset. The revocation log is
   * kept, so a verifier following it never sees its cursor go backwards.
   */
  reset(): void {
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
    for (const [id, until] of this.#assertionIds) if (until <= now) this.#assertionIds.delete(id)
    this.#authorizations.sweep(now)
  }

  /** The same contract as Redis: a write whose caller has stopped waiting is not applied. */
  #checkDeadline(deadline: number | undefined): void {
    if (deadline !== undefined && Date.now() > deadline) {
      throw new StoreUnavailableError('the store reached the command after its deadline')
    }
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
    return this.#sessions.createSession(session)
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

  async recordRevocation(revocation: RevocationRecord, retentionMs: number): Promise<string> {
    return this.#revocations.record(revocation, retentionMs)
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
}
