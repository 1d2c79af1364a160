// Redis connections that fail fast instead of queueing: a request must get 503, not hang, while Redis is away.
import { Cluster, Redis, type RedisOptions } from 'ioredis'

export interface RedisConnectionOptions {
  readonly url?: string
  readonly clusterNodes?: readonly { host: string; port: number }[]
  readonly prefix: string
  /** A command that gets no answer within this time rejects. Default {@link DEFAULT_COMMAND_TIMEOUT_MS}. */
  readonly commandTimeoutMs?: number
  readonly connectTimeoutMs?: number
}

export type RedisClient = Redis | Cluster

/** How long a store call may wait for Redis before the request answers 503 (REDIS_COMMAND_TIMEOUT). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1_500

/**
 * Opens a standalone or cluster client. Commands issued while disconnected
 * reject at once (no offline queue) and every command has a timeout; the
 * client reconnects by itself forever, with capped backoff.
 *
 * @example
 * const redis = createRedisClient({ url: 'redis://127.0.0.1:6379', prefix: 'tg:' })
 */
export function createRedisClient(options: RedisConnectionOptions): RedisClient {
  const common: RedisOptions = {
    keyPrefix: options.prefix,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    enableOfflineQueue: false,
    // Commands issued in the same tick (many concurrent requests) go out in one write.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
  }
  if (options.clusterNodes && options.clusterNodes.length > 0) {
    const first = options.url ? new URL(options.url) : undefined
    return new Cluster([...options.clusterNodes], {
      lazyConnect: true,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      keyPrefix: options.prefix,

      clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 4), 1_000),
      redisOptions: {
        ...common,
        keyPrefix: undefined,
        ...(first?.password ? { password: decodeURIComponent(first.password) } : {}),
        ...(first?.username ? { username: decodeURIComponent(first.username) } : {}),
        ...(first?.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    })
  }
  if (!options.url) throw new TypeError('a Redis URL or cluster nodes are required')
  return new Redis(options.url, common)
}
