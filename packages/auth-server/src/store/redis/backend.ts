// One Redis deployment as the store uses it: connected once, every call bounded by the command timeout, refused at
// once while Redis is not answering, writes with a deadline on Redis's clock, eviction checked on every connect.
import { AsyncLocalStorage } from 'node:async_hooks'
import { SpanKind, tracingState, withSpan } from '@tollgate/shared'
import { Cluster, type Redis } from 'ioredis'
import { StoreMisconfiguredError, StoreUnavailableError } from '../../errors.js'
import { UsernameTakenError } from '../types.js'
import {
  createRedisClient,
  DEFAULT_COMMAND_TIMEOUT_MS,
  type RedisClient,
  type RedisConnectionOptions,
} from './connection.js'
import { checkEvictionPolicy } from './eviction.js'
import { RedisHealth } from './health.js'
import { call, defineScripts, type ScriptInput, type ScriptName } from './scripts.js'
import { isTransient } from './transient.js'

export interface RedisBackendOptions extends RedisConnectionOptions {
  /**
   * Replicas that must acknowledge a new session or a rotation before its refresh token is handed out (Redis
   * `WAIT`), so a failover to a replica loses none. Default 0: Redis's own persistence is the durability.
   */
  readonly waitReplicas?: number
  /** Warnings about the deployment (an unreadable maxmemory-policy, outages). */
  readonly log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }
  /**
   * Called when a reconnected Redis turns out to be set up to lose data (an evicting maxmemory-policy); the server
   * stops. At connect the same check makes {@link RedisBackend.open} reject instead.
   */
  readonly onMisconfigured?: (err: StoreMisconfiguredError) => void
}

/** Room left before the command timeout, so a script that ran just before its deadline still answers in time. */
const deadlineMargin = (timeoutMs: number) => Math.max(50, Math.min(300, timeoutMs / 5))

const TIMED_OUT = new Error('Redis did not answer within the command timeout')

/** Pause between attempts of a reconnect check that failed (Redis went away again, the heal failed). */
const RECHECK_RETRY_MS = 200

/**
 * The store's connection to Redis. Every call completes or rejects with StoreUnavailableError within the command
 * timeout, whatever Redis does (stalls, failovers, redirections to a dead node).
 *
 * @example
 * const backend = await RedisBackend.open({ url: 'redis://127.0.0.1:6379', prefix: 'tg:' })
 * const sessions = await backend.script('listSessions', { keys: { user, familyPrefix }, args: { now } })
 */
export class RedisBackend {
  readonly redis: RedisClient
  readonly #timeoutMs: number
  readonly #waitReplicas: number
  readonly #health: RedisHealth
  readonly #options: RedisBackendOptions
  #policyWarned = false
  /** Why store calls are held back after a reconnect (undefined: they are not). */
  #held: string | undefined
  #reconnectCheck: (() => Promise<void>) | undefined
  #checking = false
  #closed = false
  /** Set while the reconnect check itself runs: its store calls go through the hold. */
  readonly #checkContext = new AsyncLocalStorage<true>()

  private constructor(redis: RedisClient, options: RedisBackendOptions) {
    this.redis = redis
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

  /** How long a call may wait for Redis (ms). */
  get timeoutMs(): number {
    return this.#timeoutMs
  }

  get cluster(): boolean {
    return this.redis instanceof Cluster
  }

  /**
   * Connects, waiting up to `waitMs` for Redis to become reachable, and checks that Redis will not evict keys
   * (rejects with StoreMisconfiguredError otherwise).
   */
  static async open(options: RedisBackendOptions, waitMs = 10_000): Promise<RedisBackend> {
    const redis = createRedisClient(options)
    const store = new RedisBackend(redis, options)
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
   * Refuses an evicting `maxmemory-policy` (StoreMisconfiguredError): under `allkeys-lru` and the like, Redis silently
   * deletes users, clients and sessions when memory runs short. Where `CONFIG` is not allowed, warns once.
   */
  async checkEvictionPolicy(): Promise<void> {
    await checkEvictionPolicy(this.#nodes(), (reason) => {
      if (this.#policyWarned) return
      this.#policyWarned = true
      this.#options.log?.warn(
        { reason },
        'cannot read Redis maxmemory-policy (CONFIG not allowed): make sure it is noeviction, or Redis may delete users, clients and sessions',
      )
    })
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

  /**
   * Holds every store call back (503) from the moment the connection to Redis is lost until `check` has run against
   * the reconnected Redis: a Redis that comes back empty (restarted without persistence) must be healed — its marker
   * found missing, the bootstrap file applied again — before a single request is answered from it, or a bootstrap
   * user would be told their password is wrong. `check` runs with store access; it is retried until it resolves.
   * (Cluster: the cluster client's own close and ready; a single node that loses its data is left to the periodic
   * watch.)
   */
  holdAfterReconnect(check: () => Promise<void>): void {
    this.#reconnectCheck = check
    this.redis.on('close', () => {
      if (this.#closed) return
      this.#held ??= 'Redis reconnected: checking that it still holds its data'
    })
    this.redis.on('ready', () => void this.#runReconnectCheck())
  }

  /** Whether store calls are held back, waiting for the reconnect check. */
  get held(): boolean {
    return this.#held !== undefined
  }

  async #runReconnectCheck(): Promise<void> {
    const check = this.#reconnectCheck
    if (!check || this.#held === undefined || this.#checking) return
    this.#checking = true
    try {
      while (this.#held !== undefined && !this.#closed) {
        try {
          await this.#checkContext.run(true, check)
          this.#held = undefined
        } catch (err) {
          this.#options.log?.warn({ reason: (err as Error).message }, 'store check after reconnecting failed; retrying')
          await new Promise((resolve) => setTimeout(resolve, RECHECK_RETRY_MS).unref())
          if (this.redis.status !== 'ready') return // the next 'ready' starts over
        }
      }
    } finally {
      this.#checking = false
    }
  }

  /** Runs a Redis operation: refused at once while Redis is not answering, bounded by the command timeout. */
  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.#health.up) throw new StoreUnavailableError('Redis is not answering')
    if (this.#held !== undefined && this.#checkContext.getStore() !== true) throw new StoreUnavailableError(this.#held)
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
  deadline(given: number | undefined): number {
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
    this.#closed = true
    this.#held = undefined
    this.#health.close()
    try {
      await this.redis.quit()
    } catch {
      this.redis.disconnect()
    }
  }

  /** A script call, bounded like every store call; a client span per script when the process traces. */
  script<R, N extends ScriptName = ScriptName>(name: N, input: ScriptInput<N>): Promise<R> {
    if (!tracingState.enabled) return this.run(() => call<N, R>(this.redis, name, input))
    return withSpan(
      `redis ${name}`,
      { 'db.system.name': 'redis', 'db.operation.name': name },
      () => this.run(() => call<N, R>(this.redis, name, input)),
      SpanKind.CLIENT,
    )
  }

  /**
   * A script that hands out a token; with `waitReplicas`, in one pipeline with a `WAIT` on the same node, so the
   * token is only handed out once replicas have it. Not acknowledged in time: 503. The write did happen on the
   * primary, so the client's retry (within the grace window) gets the same result back.
   */
  durable<R, N extends ScriptName = ScriptName>(name: N, input: ScriptInput<N>): Promise<R> {
    if (this.#waitReplicas === 0) return this.script<R, N>(name, input)
    return this.run(async () => {
      const pipeline = this.redis.pipeline()
      void call(pipeline, name, input)
      pipeline.call('wait', this.#waitReplicas, Math.max(1, this.#timeoutMs - deadlineMargin(this.#timeoutMs)))
      const [[err, result] = [null, undefined], [waitErr, acked] = [null, 0]] = (await pipeline.exec()) ?? []
      if (err) throw err
      if (waitErr) throw waitErr
      if (Number(acked) < this.#waitReplicas) {
        throw new StoreUnavailableError(
          `${acked} of ${this.#waitReplicas} Redis replicas acknowledged the write in time`,
        )
      }
      return result as R
    })
  }
}
