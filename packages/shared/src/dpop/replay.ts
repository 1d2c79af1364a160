// Where DPoP proof ids are remembered for the proof window, so each proof is accepted once.

/** Claims an id for `ttlMs`; false when it is already claimed (a replay). May be backed by a shared store. */
export interface ReplayGuard {
  claim(id: string, ttlMs: number): boolean | Promise<boolean>
}

/**
 * A bounded in-process guard: ids expire with the window; past `maxEntries` the oldest are forgotten first (they
 * are the nearest to expiry). For several instances behind one load balancer, give the verifier a shared guard
 * (for example Redis `SET NX PX`) instead.
 *
 * @example
 * createVerifier({ …, dpop: { replay: memoryReplayGuard({ maxEntries: 1_000_000 }) } })
 */
export function memoryReplayGuard(options: { maxEntries?: number; now?: () => number } = {}): ReplayGuard {
  const maxEntries = options.maxEntries ?? 500_000
  const now = options.now ?? Date.now
  const seen = new Map<string, number>()
  return {
    claim(id, ttlMs) {
      const at = now()
      const until = seen.get(id)
      if (until !== undefined && until > at) return false
      seen.delete(id)
      if (seen.size >= maxEntries) {
        // Insertion order ≈ expiry order: drop expired ids from the front, or the oldest when none has expired.
        for (const [key, expires] of seen) {
          seen.delete(key)
          if (expires > at || seen.size < maxEntries * 0.9) break
        }
      }
      seen.set(id, at + ttlMs)
      return true
    },
  }
}

/** The one Redis command the shared guard needs, as ioredis (and node-redis' legacy mode) spell it. */
export interface RedisSetNx {
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<string | null>
}

/**
 * A guard shared by every instance of a service: each id is claimed with Redis `SET key 1 PX ttl NX`, so a proof
 * replayed to another instance behind the same load balancer is refused too. A Redis error refuses the proof
 * (fail closed: the client signs a new one), it never lets one through twice.
 *
 * @example
 * import Redis from 'ioredis'
 * createVerifier({ …, dpop: { replay: redisReplayGuard(new Redis(process.env.REDIS_URL), { prefix: 'orders:' }) } })
 */
export function redisReplayGuard(redis: RedisSetNx, options: { prefix?: string } = {}): ReplayGuard {
  const prefix = `${options.prefix ?? ''}dpop-jti:`
  return {
    async claim(id, ttlMs) {
      try {
        return (await redis.set(prefix + id, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK'
      } catch {
        return false
      }
    },
  }
}
