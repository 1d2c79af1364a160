// Chooses the store from configuration: Redis when REDIS_URL / REDIS_CLUSTER_NODES is set, memory otherwise.
import type { Config } from '../config.js'
import { MemoryStore } from './memory/memory-store.js'
import type { Store } from './types.js'

export async function openStore(config: Config, now: () => number = Date.now): Promise<Store> {
  if (config.redisUrl || config.redisClusterNodes) {
    // Loaded only when used: the in-memory mode (pnpm start, the test issuer) starts without ioredis.
    const { RedisStore } = await import('./redis/redis-store.js')
    return RedisStore.connect({
      ...(config.redisUrl ? { url: config.redisUrl } : {}),
      ...(config.redisClusterNodes ? { clusterNodes: config.redisClusterNodes } : {}),
      prefix: config.redisPrefix,
      now,
    })
  }
  return new MemoryStore({ now })
}

export { MemoryStore } from './memory/memory-store.js'
export * from './types.js'
