// The production store: Redis (standalone or Cluster) via ioredis, atomic operations as Lua scripts.
import { randomBytes } from 'node:crypto'
import { Cluster, type Redis } from 'ioredis'
import { StoreMisconfiguredError, StoreUnavailableError } from '../../errors.js'
import {
  type AuthorizationCode,
  type ClientRecord,
  type FailurePolicy,
  type FailureState,
  type NewSession,
  normalizeUsername,
  type RateCount,
  type RedeemResult,
  type RefreshTokenInfo,
  type RotateRequest,
  type RotateResult,
  type SessionInfo,
  type Store,
  UsernameTakenError,
  type UserRecord,
} from '../types.js'
import {
  decodeClient,
  decodeRefreshInfo,
  decodeRotate,
  decodeSessions,
  decodeUser,
  encodeClient,
  encodeUser,
  keys,
  OPTIONAL_USER_FIELDS,
} from './codec.js'
import {
  createRedisClient,
  DEFAULT_COMMAND_TIMEOUT_MS,
  type RedisClient,
  type RedisConnectionOptions,
} from './connection.js'
import { RedisHealth } from './health.js'
import { defineScripts, type ScriptCommands } from './scripts.js'
import { isTransient } from './transient.js'

export interface RedisStoreOptions extends RedisConnectionOptions {
  readonly now?: () => number
  /**
   * Replicas that must acknowledge a new session or a rotation before its refresh token is handed out (Redis
   * `WAIT`), so a failover to a replica loses none. Default 0: Redis's own persistence is the durability.
   */
  readonly waitReplicas?: number
  /** Warnings about the deployment (an unreadable maxmemory-policy, clock offset, outages). */
  readonly log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }
  /**
   * Called when a reconnected Redis turns out to be set up to lose data (an evicting maxmemory-policy); the server
   * stops. At connect the same check makes {@link RedisStore.connect} reject instead.
   */
  readonly onMisconfigured?: (err: StoreMisconfiguredError) => void
}

/** Room left before the command timeout, so a script that ran just before its deadline still answers in time. */
const deadlineMargin = (timeoutMs: number) => Math.max(50, Math.min(300, timeoutMs / 5))

const TIMED_OUT = new Error('Redis did not answer within the command timeout')

/** The one eviction policy under which Redis never deletes a key it was asked to keep. */
const NO_EVICTION = 'noeviction'

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
  readonly redis: RedisClient & ScriptCommands
  protected readonly now: () => number
  readonly #timeoutMs: number
  readonly #waitReplicas: number
  readonly #health: RedisHealth
  readonly #options: RedisStoreOptions
  #policyWarned = false

  protected constructor(redis: RedisClient, options: RedisStoreOptions) {
    this.redis = redis as RedisClient & ScriptCommands
    this.kind = redis instanceof Cluster ? 'redis-cluster' : 'redis'
    this.now = options.now ?? Date.now
    this.#options = options
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
    this.#waitReplicas = options.waitReplicas ?? 0
    this.#health = new RedisHealth({
      ping: () => this.#ping(),
      time: () => this.#time(),
      timeoutMs: this.#timeoutMs,
      onChange: (up, reason) =>
        up
          ? options.log?.info({ reason }, 'Redis answers again')
          : options.log?.warn({ reason }, 'Redis stopped answering: refusing store calls until it does'),
    })
    defineScripts(redis)
    // Errors are surfaced per command; without a listener ioredis would print each reconnect failure.
    redis.on('error', () => {})
  }

  /**
   * Connects, waiting up to `waitMs` for Redis to become reachable, and checks that Redis will not evict keys
   * (rejects with StoreMisconfiguredError otherwise).
   */
  static async connect(options: RedisStoreOptions, waitMs = 10_000): Promise<RedisStore> {
    const redis = createRedisClient(options)
    const store = new RedisStore(redis, options)
    // A failed first attempt is retried by ioredis itself (retryStrategy); we only wait for readiness.
    redis.connect().catch(() => {})
    let lastError: Error | undefined
    const onError = (err: Error) => {
      lastError = err
    }
    redis.on('error', onError)
    try {
      await new Promise<void>((resolve, reject) => {
        if (redis.status === 'ready') return resolve()
        const timer = setTimeout(() => reject(lastError ?? new Error('timed out')), waitMs)
        redis.once('ready', () => {
          clearTimeout(timer)
          resolve()
        })
      })
      await store.ping()
      await store.checkEvictionPolicy()
      await store.#health.syncClock()
    } catch (err) {
      store.#health.close()
      redis.disconnect()
      if (err instanceof StoreMisconfiguredError) throw err
      throw new StoreUnavailableError(`Redis is not reachable: ${(err as Error).message}`, { cause: err })
    } finally {
      redis.off('error', onError)
    }
    store.#recheckOnReconnect()
    return store
  }

  /** The nodes to ask about their configuration: the client itself, or every cluster node. */
  #nodes(): Redis[] {
    return this.redis instanceof Cluster ? this.redis.nodes('all') : [this.redis as Redis]
  }

  /**
   * Refuses an evicting `maxmemory-policy`: under `allkeys-lru` and the like, Redis silently deletes users, clients
   * and sessions when memory runs short. Where `CONFIG` is not allowed (managed Redis), warns once and goes on.
   */
  async checkEvictionPolicy(): Promise<void> {
    for (const node of this.#nodes()) {
      let policy: string | undefined
      try {
        const reply = (await node.config('GET', 'maxmemory-policy')) as string[]
        policy = reply[1]
      } catch (err) {
        if (isTransient(err) && (err as Error).name !== 'ReplyError') throw err
        if (!this.#policyWarned) {
          this.#policyWarned = true
          this.#options.log?.warn(
            { reason: (err as Error).message },
            'cannot read Redis maxmemory-policy (CONFIG not allowed): make sure it is noeviction, or Redis may delete users, clients and sessions',
          )
        }
        return
      }
      if (policy !== undefined && policy !== NO_EVICTION) {
        const where = `${node.options.host ?? 'redis'}:${node.options.port ?? 6379}`
        throw new StoreMisconfiguredError(
          `Redis at ${where} has maxmemory-policy ${policy}, which deletes users, clients and sessions when memory runs short; set maxmemory-policy ${NO_EVICTION} (redis-cli CONFIG SET maxmemory-policy ${NO_EVICTION}, and in redis.conf)`,
        )
      }
    }
  }

  #recheckOnReconnect(): void {
    const recheck = () => {
      this.checkEvictionPolicy().catch((err: unknown) => {
        if (err instanceof StoreMisconfiguredError) this.#options.onMisconfigured?.(err)
      })
    }
    this.redis.on('ready', recheck)
    if (this.redis instanceof Cluster) this.redis.on('+node', (node: Redis) => node.once('ready', recheck))
  }

  /** Runs a Redis operation: refused at once while Redis is not answering, bounded by the command timeout. */
  protected async run<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.#health.up) throw new StoreUnavailableError('Redis is not answering')
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(TIMED_OUT), this.#timeoutMs)
    })
    try {
      return await Promise.race([operation(), timeout])
    } catch (err) {
      if (err instanceof StoreUnavailableError || err instanceof UsernameTakenError) throw err
      if (err === TIMED_OUT || (err instanceof Error && err.message === 'Command timed out')) {
        this.#health.trip(TIMED_OUT.message)
        throw new StoreUnavailableError(TIMED_OUT.message, { cause: err })
      }
      if (isTransient(err)) throw new StoreUnavailableError('Redis is unavailable', { cause: err })
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /** The deadline for a write issued now, on Redis's clock. */
  #deadline(given: number | undefined): number {
    const local = given ?? Date.now() + this.#timeoutMs - deadlineMargin(this.#timeoutMs)
    return local + this.#health.offsetMs
  }

  async #ping(): Promise<void> {
    if (this.redis.status !== 'ready') throw new StoreUnavailableError(`Redis connection is ${this.redis.status}`)
    if (this.redis instanceof Cluster) {
      await Promise.all(this.redis.nodes('master').map((node) => node.ping()))
    } else {
      await this.redis.ping()
    }
  }

  async #time(): Promise<number> {
    const node = this.redis instanceof Cluster ? this.redis.nodes('master')[0] : this.redis
    if (!node) throw new StoreUnavailableError('no Redis node')
    const [seconds, micros] = await node.time()
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  }

  async ping(): Promise<void> {
    await this.run(() => this.#ping())
  }

  async close(): Promise<void> {
    this.#health.close()
    try {
      await this.redis.quit()
    } catch {
      this.redis.disconnect()
    }
  }

  async ensureMarker(): Promise<boolean> {
    return this.run(async () => {
      const value = `${new Date().toISOString()} ${randomBytes(6).toString('base64url')}`
      return (await this.redis.set(keys.marker(), value, 'NX')) === null
    })
  }

  async putUser(user: UserRecord): Promise<void> {
    await this.run(async () => {
      const name = normalizeUsername(user.username)
      const previous = await this.redis.hget(keys.user(user.sub), 'username')
      // The record first, then the username: an index entry then always has its record, except when something
      // outside Tollgate deleted the record (eviction, a partial restore), which the claim below heals.
      // The user hash also indexes the user's sessions ("s:<fid>" fields): replace fields, never the key.
      const fields = encodeUser(user)
      const absent = OPTIONAL_USER_FIELDS.filter((f) => !(f in fields))
      const tx = this.redis.multi().hset(keys.user(user.sub), fields)
      if (absent.length > 0) tx.hdel(keys.user(user.sub), ...absent)
      await tx.exec()
      await this.redis.sadd(keys.users(), user.sub)
      try {
        await this.#claimUsername(name, user)
      } catch (err) {
        if (previous === null && err instanceof UsernameTakenError) {
          // Nothing else knows this new record yet: take it back.
          await this.redis.del(keys.user(user.sub))
          await this.redis.srem(keys.users(), user.sub)
        }
        throw err
      }
      if (previous !== null && normalizeUsername(previous) !== name) {
        await this.redis.deleteIfEqual(keys.username(normalizeUsername(previous)), user.sub)
      }
    })
  }

  /** Points the username at this user, unless a live user of that name owns it; a stale entry is taken over. */
  async #claimUsername(name: string, user: UserRecord): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if ((await this.redis.set(keys.username(name), user.sub, 'NX')) !== null) return
      const owner = await this.redis.get(keys.username(name))
      if (owner === user.sub) return
      if (owner === null) continue
      const ownerName = await this.redis.hget(keys.user(owner), 'username')
      if (ownerName !== null && normalizeUsername(ownerName) === name) throw new UsernameTakenError(user.username)
      // The index names a user whose record is gone or renamed: stale. Compare-and-delete, then claim again.
      await this.redis.deleteIfEqual(keys.username(name), owner)
    }
    throw new UsernameTakenError(user.username)
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

  async putClient(client: ClientRecord): Promise<void> {
    await this.run(async () => {
      await this.redis.set(keys.client(client.clientId), encodeClient(client))
      await this.redis.sadd(keys.clients(), client.clientId)
    })
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

  async removeClient(clientId: string): Promise<boolean> {
    return this.run(async () => {
      const removed = await this.redis.del(keys.client(clientId))
      await this.redis.srem(keys.clients(), clientId)
      return removed > 0
    })
  }

  /**
   * Runs a write that hands out a token; with `waitReplicas`, in one pipeline with a `WAIT` on the same node, so the
   * token is only handed out once replicas have it. Not acknowledged in time: 503. The write did happen on the
   * primary, so the client's retry (within the grace window) gets the same result back.
   */
  async #durable<T>(write: (target: ScriptCommands) => unknown): Promise<T> {
    if (this.#waitReplicas === 0) return (await write(this.redis)) as T
    const pipeline = this.redis.pipeline()
    write(pipeline as unknown as ScriptCommands)
    pipeline.call('wait', this.#waitReplicas, Math.max(1, this.#timeoutMs - deadlineMargin(this.#timeoutMs)))
    const [[err, result] = [null, undefined], [waitErr, acked] = [null, 0]] = (await pipeline.exec()) ?? []
    if (err) throw err
    if (waitErr) throw waitErr
    if (Number(acked) < this.#waitReplicas) {
      throw new StoreUnavailableError(`${acked} of ${this.#waitReplicas} Redis replicas acknowledged the write in time`)
    }
    return result as T
  }

  async createSession(session: NewSession): Promise<number> {
    const deadline = this.#deadline(session.deadline)
    const reply = await this.run(() =>
      this.#durable<number | 'late'>((target) =>
        target.createSession(
          keys.family(session.sub, session.fid),
          keys.user(session.sub),
          session.fid,
          session.tokenHash,
          session.clientId,
          session.scope.join(' '),
          session.audience.join(' '),
          session.authTime,
          session.userAgent ?? '',
          session.now,
          session.idleTtlMs,
          session.absoluteTtlMs,
          deadline,
        ),
      ),
    )
    if (reply === 'late') throw new StoreUnavailableError('Redis reached the new session after its deadline')
    return Number(reply)
  }

  async rotateRefresh(request: RotateRequest): Promise<RotateResult> {
    const deadline = this.#deadline(request.deadline)
    const reply = await this.run(() =>
      this.#durable<string[]>((target) =>
        target.rotateRefresh(
          keys.family(request.sub, request.fid),
          keys.user(request.sub),
          request.fid,
          request.presentedHash,
          request.successorHash,
          request.sealedSuccessor,
          request.clientId,
          request.now,
          request.idleTtlMs,
          request.graceMs,
          request.scope?.join(' ') ?? '',
          request.audience?.join(' ') ?? '',
          deadline,
        ),
      ),
    )
    const result = decodeRotate(request.sub, reply)
    if (result.outcome === 'late') throw new StoreUnavailableError('Redis reached the refresh after its deadline')
    return result
  }

  async inspectRefresh(sub: string, fid: string, tokenHash: string): Promise<RefreshTokenInfo | undefined> {
    return decodeRefreshInfo(await this.run(() => this.redis.inspectRefresh(keys.family(sub, fid), tokenHash)))
  }

  async revokeSession(sub: string, fid: string): Promise<boolean> {
    return this.run(async () => (await this.redis.revokeSession(keys.family(sub, fid), keys.user(sub), fid)) > 0)
  }

  async revokeUserSessions(sub: string): Promise<number> {
    return this.run(() => this.redis.revokeUserSessions(keys.user(sub), keys.familyPrefix(sub)))
  }

  async listSessions(sub: string, now: number): Promise<SessionInfo[]> {
    return decodeSessions(await this.run(() => this.redis.listSessions(keys.user(sub), keys.familyPrefix(sub), now)))
  }

  async putCode(codeHash: string, code: AuthorizationCode, ttlMs: number): Promise<void> {
    await this.run(async () => {
      await this.redis
        .multi()
        .hset(keys.code(codeHash), 'd', JSON.stringify(code))
        .pexpire(keys.code(codeHash), ttlMs)
        .exec()
    })
  }

  async redeemCode(codeHash: string, deadline?: number): Promise<RedeemResult> {
    const at = this.#deadline(deadline)
    const [outcome, data] = await this.run(() => this.redis.redeemCode(keys.code(codeHash), at))
    if (outcome === 'late') throw new StoreUnavailableError('Redis reached the code after its deadline')
    if ((outcome === 'ok' || outcome === 'reused') && data) {
      return { outcome, code: JSON.parse(data) as AuthorizationCode }
    }
    return { outcome: 'invalid' }
  }

  async recordFailure(key: string, now: number, policy: FailurePolicy): Promise<FailureState> {
    const [count, last, lockedUntil] = await this.run(() =>
      this.redis.recordFailure(keys.failures(key), now, policy.windowMs, policy.maxFailures, policy.lockoutMs),
    )
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

  async countRequest(key: string, windowMs: number): Promise<RateCount> {
    const [count, ttlMs] = await this.run(() => this.redis.countRequest(keys.rate(key), windowMs))
    return { count: Number(count), ttlMs: Number(ttlMs) }
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    if (expiresAt <= this.now()) return
    await this.run(() => this.redis.set(keys.revokedJti(jti), '1', 'PXAT', expiresAt))
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    return this.run(async () => (await this.redis.exists(keys.revokedJti(jti))) === 1)
  }
}
