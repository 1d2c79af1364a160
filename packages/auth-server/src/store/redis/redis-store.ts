// The production store: Redis (standalone or Cluster) via ioredis, atomic operations as Lua scripts.
import { createHash, randomBytes } from 'node:crypto'
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
  type UserRecord,
  type WriteOptions,
} from '../types.js'
import { auditArgs, decodeAuditEntries, readAudit } from './audit.js'
import { RedisAuthorizations } from './authorizations.js'
import { RedisBackend, type RedisBackendOptions } from './backend.js'
import { decodeClient, decodeRefreshInfo, decodeRotate, decodeSessions, decodeUser, keys } from './codec.js'
import type { RedisClient } from './connection.js'
import { followStream } from './follow.js'
import { getInitialToken, listInitialTokens, putInitialToken, removeInitialToken } from './initial-tokens.js'
import { RedisRecords } from './records.js'
import { decodeEntries, denialKeyOf, followLog, revocationState } from './revocations.js'
import { putUser } from './users.js'

export interface RedisStoreOptions extends RedisBackendOptions {
  readonly now?: () => number
}

/**
 * A {@link Store} in Redis. Every call completes or rejects with StoreUnavailableError within the command timeout,
 * whatever Redis does (stalls, failovers, redirections to a dead node); writes that hand out tokens carry a deadline
 * in Redis's clock, so a stalled command that Redis reaches after the caller gave up changes nothing.
 *
 * @example
 * const store = await RedisStore.connect({ url: process.env.REDIS_URL, prefix: 'tg:' })
 */
export class RedisStore implements Store {
  readonly kind: 'redis' | 'redis-cluster'
  readonly backend: RedisBackend
  protected readonly now: () => number
  readonly #authorizations: RedisAuthorizations

  readonly #records: RedisRecords

  protected constructor(backend: RedisBackend, options: RedisStoreOptions) {
    this.backend = backend
    this.#authorizations = new RedisAuthorizations(backend)
    this.#records = new RedisRecords(backend, (write) => this.appendAudit(write))
    this.kind = backend.cluster ? 'redis-cluster' : 'redis'
    this.now = options.now ?? Date.now
  }

  /**
   * Connects, waiting up to `waitMs` for Redis to become reachable, and checks that Redis will not evict keys
   * (rejects with StoreMisconfiguredError otherwise).
   */
  static async connect(options: RedisStoreOptions, waitMs = 10_000): Promise<RedisStore> {
    return new RedisStore(await RedisBackend.open(options, waitMs), options)
  }

  get redis(): RedisClient {
    return this.backend.redis
  }

  protected run<T>(operation: () => Promise<T>): Promise<T> {
    return this.backend.run(operation)
  }

  /** See {@link RedisBackend.checkEvictionPolicy}. */
  checkEvictionPolicy(): Promise<void> {
    return this.backend.checkEvictionPolicy()
  }

  ping(): Promise<void> {
    return this.backend.ping()
  }

  close(): Promise<void> {
    return this.backend.close()
  }

  holdAfterReconnect(check: () => Promise<void>): void {
    this.backend.holdAfterReconnect(check)
  }

  async ensureMarker(): Promise<boolean> {
    return this.run(async () => {
      const value = `${new Date().toISOString()} ${randomBytes(6).toString('base64url')}`
      return (await this.redis.set(keys.marker(), value, 'NX')) === null
    })
  }

  async updateUser(user: UserRecord, options?: WriteOptions): Promise<void> {
    await this.#records.updateUser(user, options)
  }

  async removeUser(sub: string, options?: WriteOptions): Promise<void> {
    await this.#records.removeUser(sub, options)
  }

  async putUser(user: UserRecord, options?: WriteOptions): Promise<void> {
    await this.run(() => putUser(this.redis, user))
    // The username index lives on another slot than the record: the event follows the write.
    if (options?.audit) await this.appendAudit(options.audit)
  }

  async getUser(sub: string): Promise<UserRecord | undefined> {
    return this.run(async () => decodeUser(await this.redis.hgetall(keys.user(sub))))
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    return this.run(async () => {
      const sub = await this.redis.get(keys.username(normalizeUsername(username)))
      return sub === null ? undefined : decodeUser(await this.redis.hgetall(keys.user(sub)))
    })
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.run(async () => {
      const subs = await this.redis.smembers(keys.users())
      const users = await Promise.all(subs.map((sub) => this.redis.hgetall(keys.user(sub))))
      return users
        .map(decodeUser)
        .filter((u): u is UserRecord => u !== undefined)
        .sort((a, b) => a.username.localeCompare(b.username))
    })
  }

  async putClient(client: ClientRecord, options?: WriteOptions): Promise<void> {
    await this.#records.putClient(client, options)
  }

  async removeClient(clientId: string, options?: WriteOptions): Promise<boolean> {
    return this.#records.removeClient(clientId, options)
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    return this.run(async () => {
      const json = await this.redis.get(keys.client(clientId))
      return json === null ? undefined : decodeClient(json)
    })
  }

  async listClients(): Promise<ClientRecord[]> {
    return this.run(async () => {
      const ids = await this.redis.smembers(keys.clients())
      const found = await Promise.all(ids.map((id) => this.redis.get(keys.client(id))))
      return found
        .filter((json): json is string => json !== null)
        .map(decodeClient)
        .sort((a, b) => a.clientId.localeCompare(b.clientId))
    })
  }

  async createSession(session: NewSession): Promise<number> {
    // The public-id index lives on another slot; written beside the session, best effort: without it an
    // administrator still finds the session through its user.
    if (session.sid !== undefined) {
      const index = keys.sessionIndex(session.sid)
      this.run(() => this.redis.set(index, `${session.sub} ${session.fid}`, 'PX', session.absoluteTtlMs)).catch(
        () => {},
      )
    }
    const reply = await this.backend.durable<number | 'late', 'createSession'>('createSession', {
      keys: { family: keys.family(session.sub, session.fid), user: keys.user(session.sub) },
      args: {
        fid: session.fid,
        tokenHash: session.tokenHash,
        clientId: session.clientId,
        scope: session.scope.join(' '),
        audience: session.audience.join(' '),
        authTime: session.authTime,
        userAgent: session.userAgent ?? '',
        now: session.now,
        idleTtlMs: session.idleTtlMs,
        absoluteTtlMs: session.absoluteTtlMs,
        deadline: this.backend.deadline(session.deadline),
        jkt: session.jkt ?? '',
      },
    })
    if (reply === 'late') throw new StoreUnavailableError('Redis reached the new session after its deadline')
    return Number(reply)
  }

  async rotateRefresh(request: RotateRequest): Promise<RotateResult> {
    const reply = await this.backend.durable<string[], 'rotateRefresh'>('rotateRefresh', {
      keys: { family: keys.family(request.sub, request.fid), user: keys.user(request.sub) },
      args: {
        fid: request.fid,
        presentedHash: request.presentedHash,
        successorHash: request.successorHash,
        sealedSuccessor: request.sealedSuccessor,
        clientId: request.clientId,
        now: request.now,
        idleTtlMs: request.idleTtlMs,
        graceMs: request.graceMs,
        scope: request.scope?.join(' ') ?? '',
        audience: request.audience?.join(' ') ?? '',
        deadline: this.backend.deadline(request.deadline),
        jkt: request.jkt ?? '',
      },
    })
    const result = decodeRotate(request.sub, reply)
    if (result.outcome === 'late') throw new StoreUnavailableError('Redis reached the refresh after its deadline')
    return result
  }

  async inspectRefresh(sub: string, fid: string, tokenHash: string): Promise<RefreshTokenInfo | undefined> {
    return decodeRefreshInfo(
      await this.backend.script<string[], 'inspectRefresh'>('inspectRefresh', {
        keys: { family: keys.family(sub, fid) },
        args: { tokenHash },
      }),
    )
  }

  async revokeSession(sub: string, fid: string): Promise<boolean> {
    const ended = await this.backend.script<number, 'revokeSession'>('revokeSession', {
      keys: { family: keys.family(sub, fid), user: keys.user(sub) },
      args: { fid },
    })
    return ended > 0
  }

  async revokeUserSessions(sub: string): Promise<number> {
    return this.backend.script<number, 'revokeUserSessions'>('revokeUserSessions', {
      keys: { user: keys.user(sub), familyPrefix: keys.familyPrefix(sub) },
      args: {},
    })
  }

  async listSessions(sub: string, now: number): Promise<SessionInfo[]> {
    return decodeSessions(
      await this.backend.script<string[], 'listSessions'>('listSessions', {
        keys: { user: keys.user(sub), familyPrefix: keys.familyPrefix(sub) },
        args: { now },
      }),
    )
  }

  async findSession(sid: string, now: number): Promise<{ sub: string; session: SessionInfo } | undefined> {
    const entry = await this.run(() => this.redis.get(keys.sessionIndex(sid)))
    const [sub, fid] = entry?.split(' ') ?? []
    if (!sub || !fid) return undefined
    const session = (await this.listSessions(sub, now)).find((s) => s.fid === fid)
    return session && { sub, session }
  }

  async putCode(codeHash: string, code: AuthorizationCode, expiresAt: number): Promise<void> {
    await this.run(async () => {
      await this.redis
        .multi()
        .hset(
          keys.code(codeHash),
          'd',
          JSON.stringify(code),
          'c',
          code.clientId,
          ...(code.dpopJkt ? ['j', code.dpopJkt] : []),
        )
        .pexpireat(keys.code(codeHash), expiresAt)
        .exec()
    })
  }

  async redeemCode(codeHash: string, clientId: string, deadline?: number, jkt?: string): Promise<RedeemResult> {
    const [outcome, data] = await this.backend.script<string[], 'redeemCode'>('redeemCode', {
      keys: { code: keys.code(codeHash) },
      args: { clientId, deadline: this.backend.deadline(deadline), jkt: jkt ?? '' },
    })
    if (outcome === 'wrong_key') return { outcome }
    if (outcome === 'late') throw new StoreUnavailableError('Redis reached the code after its deadline')
    if ((outcome === 'ok' || outcome === 'reused') && data) {
      return { outcome, code: JSON.parse(data) as AuthorizationCode }
    }
    return { outcome: outcome === 'wrong_client' ? 'wrong_client' : 'invalid' }
  }

  putPushedRequest(id: string, request: PushedRequest, expiresAt: number): Promise<void> {
    return this.#authorizations.putPushedRequest(id, request, expiresAt)
  }

  takePushedRequest(id: string, clientId: string, deadline?: number): Promise<PushedRequest | undefined> {
    return this.#authorizations.takePushedRequest(id, clientId, deadline)
  }

  createDeviceAuthorization(hash: string, authorization: DeviceAuthorization, keepUntil: number): Promise<boolean> {
    return this.#authorizations.createDeviceAuthorization(hash, authorization, keepUntil)
  }

  deviceByUserCode(userCode: string): Promise<DeviceAuthorization | undefined> {
    return this.#authorizations.deviceByUserCode(userCode, this.now())
  }

  decideDevice(userCode: string, decision: DeviceDecision): Promise<boolean> {
    return this.#authorizations.decideDevice(userCode, decision, this.now())
  }

  pollDevice(hash: string, clientId: string, now: number, deadline?: number): Promise<DevicePoll> {
    return this.#authorizations.pollDevice(hash, clientId, now, deadline)
  }

  async recordFailure(key: string, now: number, policy: FailurePolicy): Promise<FailureState> {
    const [count, last, lockedUntil] = await this.backend.script<number[], 'recordFailure'>('recordFailure', {
      keys: { counter: keys.failures(key) },
      args: { now, windowMs: policy.windowMs, maxFailures: policy.maxFailures, lockoutMs: policy.lockoutMs },
    })
    return { count: Number(count), last: Number(last), lockedUntil: Number(lockedUntil) }
  }

  async failureState(key: string, now: number, windowMs: number): Promise<FailureState> {
    const [count, first, last, locked] = await this.run(() => this.redis.hmget(keys.failures(key), 'n', 'f', 'l', 'u'))
    const lockedUntil = Number(locked ?? 0)
    if (count === null || (now - Number(first) > windowMs && lockedUntil <= now))
      return { count: 0, last: 0, lockedUntil: 0 }
    return { count: Number(count), last: Number(last), lockedUntil }
  }

  async clearFailures(key: string): Promise<void> {
    await this.run(() => this.redis.del(keys.failures(key)))
  }

  async claimProofId(id: string, ttlMs: number): Promise<boolean> {
    const hash = createHash('sha256').update(id).digest('base64url').slice(0, 32)
    return this.run(async () => (await this.redis.set(keys.proofId(hash), '1', 'PX', ttlMs, 'NX')) === 'OK')
  }

  /** One SET NX PX: atomic on its own, so no script is needed. */
  async claimAssertionId(id: string, ttlMs: number): Promise<boolean> {
    const hash = createHash('sha256').update(id).digest('base64url').slice(0, 32)
    return this.run(
      async () => (await this.redis.set(keys.assertionId(hash), '1', 'PX', Math.max(1, ttlMs), 'NX')) === 'OK',
    )
  }

  async countRequest(key: string, windowMs: number): Promise<RateCount> {
    const [count, ttlMs] = await this.backend.script<number[], 'countRequest'>('countRequest', {
      keys: { counter: keys.rate(key) },
      args: { windowMs },
    })
    return { count: Number(count), ttlMs: Number(ttlMs) }
  }

  async recordRevocation(revocation: RevocationRecord, retentionMs: number, audit?: AuditWrite): Promise<string> {
    return this.backend.script<string, 'recordRevocation'>('recordRevocation', {
      keys: { log: keys.revocationLog(), denial: denialKeyOf(revocation), audit: keys.auditLog() },
      args: {
        at: revocation.at,
        until: revocation.until,
        retentionMs,
        entry: JSON.stringify(revocation),
        ...auditArgs(audit),
      },
    })
  }

  async revocationState(names: { jti: string; sid?: string; sub: string; clientId: string }) {
    return this.run(() => revocationState(this.redis, names))
  }

  async readRevocations(after: string | undefined, limit: number): Promise<RevocationEntry[]> {
    const reply = await this.run(
      () =>
        this.redis.xrange(
          keys.revocationLog(),
          after === undefined ? '-' : `(${after}`,
          '+',
          'COUNT',
          limit,
        ) as Promise<[string, string[]][]>,
    )
    return decodeEntries(reply)
  }

  followRevocations(after: string | undefined, onEntries: (entries: RevocationEntry[]) => void) {
    return followLog(this.redis, this.backend.timeoutMs, after, onEntries)
  }

  async appendAudit(write: AuditWrite): Promise<string> {
    return this.backend.script<string, 'appendAudit'>('appendAudit', {
      keys: { audit: keys.auditLog() },
      args: { entry: JSON.stringify(write.record), at: write.record.time, retentionMs: write.retentionMs },
    })
  }

  async readAudit(range: AuditRange): Promise<AuditEntry[]> {
    return this.run(() => readAudit(this.redis, range))
  }

  followAudit(after: string | undefined, onEntries: (entries: AuditEntry[]) => void) {
    return followStream(this.redis, this.backend.timeoutMs, keys.auditLog(), after, decodeAuditEntries, onEntries)
  }

  async putInitialAccessToken(token: InitialAccessTokenRecord, options?: WriteOptions): Promise<void> {
    await this.run(() => putInitialToken(this.redis, token))
    if (options?.audit) await this.appendAudit(options.audit)
  }

  async getInitialAccessToken(id: string, now: number): Promise<InitialAccessTokenRecord | undefined> {
    return this.run(() => getInitialToken(this.redis, id, now))
  }

  async useInitialAccessToken(id: string, now: number): Promise<number | undefined> {
    const left = await this.backend.script<number, 'useInitialToken'>('useInitialToken', {
      keys: { token: keys.initialToken(id) },
      args: { now },
    })
    return left < 0 ? undefined : Number(left)
  }

  async listInitialAccessTokens(now: number): Promise<InitialAccessTokenRecord[]> {
    return this.run(() => listInitialTokens(this.redis, now))
  }

  async removeInitialAccessToken(id: string, options?: WriteOptions): Promise<boolean> {
    const removed = await this.run(() => removeInitialToken(this.redis, id))
    if (removed && options?.audit) await this.appendAudit(options.audit)
    return removed
  }
}
