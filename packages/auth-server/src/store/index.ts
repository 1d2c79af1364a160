// Chooses the store from configuration: Redis when REDIS_URL / REDIS_CLUSTER_NODES is set, memory otherwise.
import type { Config } from '../config.js'
import type { StoreMisconfiguredError } from '../errors.js'
import { MemoryStore } from './memory/memory-store.js'
import type { Store } from './types.js'

export interface OpenStoreOptions {
  readonly now?: () => number
  readonly log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }
  /** A reconnected Redis would lose data (evicting maxmemory-policy): the caller stops. */
  readonly onMisconfigured?: (err: StoreMisconfiguredError) => void
}

/**
 * The store the configuration names. Rejects with StoreUnavailableError when Redis cannot be reached, and with
 * StoreMisconfiguredError when it would evict keys.
 */
export async function openStore(config: Config, options: OpenStoreOptions = {}): Promise<Store> {
  const now = options.now ?? Date.now
  if (config.redisUrl || config.redisClusterNodes) {
    // Loaded only when used: the in-memory mode (pnpm start, the test issuer) starts without ioredis.
    const { RedisStore } = await import('./redis/redis-store.js')
    return RedisStore.connect({
      ...(config.redisUrl ? { url: config.redisUrl } : {}),
      ...(config.redisClusterNodes ? { clusterNodes: config.redisClusterNodes } : {}),
      prefix: config.redisPrefix,
      commandTimeoutMs: config.redisCommandTimeout,
      waitReplicas: config.redisWaitReplicas,
      now,
      ...(options.log ? { log: options.log } : {}),
      ...(options.onMisconfigured ? { onMisconfigured: options.onMisconfigured } : {}),
    })
  }
  return new MemoryStore({ now })
}

export { MemoryStore } from './memory/memory-store.js'
export * from './types.js'
