// The browser origins some client allows, cached briefly: who may read the answers of browser-facing endpoints.
import type { Store } from '../store/types.js'

const CACHE_MS = 5_000

/**
 * The union of every client's `allowed_origins`, re-read from the store at most every 5 s.
 *
 * @example
 * if (await origins.has(request.headers.origin)) reply.header('access-control-allow-origin', origin)
 */
export class ClientOrigins {
  readonly #store: Pick<Store, 'listClients'>
  readonly #now: () => number
  #cached: { origins: Set<string>; at: number } | undefined

  constructor(store: Pick<Store, 'listClients'>, now: () => number = Date.now) {
    this.#store = store
    this.#now = now
  }

  async has(origin: string | undefined): Promise<boolean> {
    if (origin === undefined) return false
    if (!this.#cached || this.#now() - this.#cached.at > CACHE_MS) {
      const clients = await this.#store.listClients()
      this.#cached = { origins: new Set(clients.flatMap((c) => c.allowedOrigins)), at: this.#now() }
    }
    return this.#cached.origins.has(origin)
  }
}
