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
