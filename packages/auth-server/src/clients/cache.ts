// A short-lived in-process cache of client records: the token endpoint reads a client on every request.
import type { ClientRecord, Store } from '../store/types.js'

/** How long a cached client (or the fact that one does not exist) is trusted. */
export const CLIENT_CACHE_TTL_MS = 5_000
const MAX_ENTRIES = 10_000

/**
 * Client changes made elsewhere (the CLI, another instance) apply within
 * {@link CLIENT_CACHE_TTL_MS}; changes made through this cache apply at once.
 * Unknown ids are cached too (briefly), but the cache is size-capped, so random
 * ids cannot grow it without bound. Built-in clients (the console's) come from the
 * server's configuration, not the store, and win over a stored client of that id.
 */
export class ClientCache {
  readonly #store: Store
  readonly #now: () => number
  readonly #entries = new Map<string, { client: ClientRecord | undefined; until: number }>()
  readonly #builtIn: ReadonlyMap<string, ClientRecord>

  constructor(store: Store, now: () => number = Date.now, builtIn: readonly ClientRecord[] = []) {
    this.#store = store
    this.#now = now
    this.#builtIn = new Map(builtIn.map((c) => [c.clientId, c]))
  }

  /** A built-in client of this id (defined by the server, never stored). */
  builtIn(clientId: string): ClientRecord | undefined {
    return this.#builtIn.get(clientId)
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const builtIn = this.#builtIn.get(clientId)
    if (builtIn) return builtIn
    const now = this.#now()
    const hit = this.#entries.get(clientId)
    if (hit && hit.until > now) return hit.client
    const client = await this.#store.getClient(clientId)
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string)
    this.#entries.delete(clientId)
    this.#entries.set(clientId, { client, until: now + (client ? CLIENT_CACHE_TTL_MS : 1_000) })
    return client
  }

  invalidate(clientId?: string): void {
    if (clientId === undefined) this.#entries.clear()
    else this.#entries.delete(clientId)
  }
}
