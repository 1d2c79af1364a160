// @fastify/rate-limit's counters kept in our Store: the same Redis, the same timeout and fail-fast rules as every
// other store call, so a stalled Redis costs a request at most one timeout (then the limit is skipped).
import type { Store } from '../store/types.js'

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void

/** The store interface @fastify/rate-limit instantiates (`new Store(options)`, then `child()` per route). */
export interface RateLimitStore {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void
  child(routeOptions: { routeInfo: { method: string; url: string } }): RateLimitStore
}

/**
 * A rate-limit store class counting in `store` (fixed windows, like the plugin's own Redis store).
 *
 * @example
 * await app.register(rateLimit, { global: false, store: rateLimitStore(ctx.store), skipOnError: true })
 */
export function rateLimitStore(store: Store): new (options?: unknown) => RateLimitStore {
  class StoreCounter implements RateLimitStore {
    readonly #prefix: string

    constructor(_options?: unknown, prefix = '') {
      this.#prefix = prefix
    }

    incr(key: string, callback: Callback, timeWindow: number): void {
      store.countRequest(`${this.#prefix}${key}`, timeWindow).then(
        ({ count, ttlMs }) => callback(null, { current: count, ttl: ttlMs }),
        (err: Error) => callback(err),
      )
    }

    child(routeOptions: { routeInfo: { method: string; url: string } }): RateLimitStore {
      return new StoreCounter(undefined, `${routeOptions.routeInfo.method}${routeOptions.routeInfo.url}:`)
    }
  }
  return StoreCounter
}
