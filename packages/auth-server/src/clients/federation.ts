// Which clients a platform identity (issuer + subject) is: an index of every client's `federated_identities`, built
// from the store and kept for as long as the client cache keeps records, so a platform token finds its client
// without a store scan per request.
import type { ClientRecord, Store } from '../store/types.js'
import { CLIENT_CACHE_TTL_MS } from './cache.js'

/** A miss rebuilds the index at most this often (a client registered a moment ago is found within it). */
const MISS_REBUILD_MS = 1_000

const keyOf = (issuer: string, subject: string) => `${issuer}\n${subject}`

/**
 * @example
 * const ids = await federation.find('https://kubernetes.default.svc', 'system:serviceaccount:shop:orders')
 */
export class FederatedClients {
  readonly #store: Pick<Store, 'listClients'>
  readonly #now: () => number
  #index = new Map<string, string[]>()
  #builtAt = Number.NEGATIVE_INFINITY
  #building: Promise<void> | undefined

  constructor(store: Pick<Store, 'listClients'>, now: () => number = Date.now) {
    this.#store = store
    this.#now = now
  }

  /** The ids of the clients that list this identity (normally one). Rejects when the store cannot answer. */
  async find(issuer: string, subject: string): Promise<readonly string[]> {
    const age = this.#now() - this.#builtAt
    if (age >= CLIENT_CACHE_TTL_MS) await this.#rebuild()
    let ids = this.#index.get(keyOf(issuer, subject))
    if (ids === undefined && this.#now() - this.#builtAt >= MISS_REBUILD_MS) {
      await this.#rebuild()
      ids = this.#index.get(keyOf(issuer, subject))
    }
    return ids ?? []
  }

  /** Forget the index (a client changed through this instance). */
  invalidate(): void {
    this.#builtAt = Number.NEGATIVE_INFINITY
  }

  #rebuild(): Promise<void> {
    this.#building ??= this.#store
      .listClients()
      .then((clients: ClientRecord[]) => {
        const index = new Map<string, string[]>()
        for (const client of clients) {
          for (const { issuer, subject } of client.federatedIdentities ?? []) {
            const key = keyOf(issuer, subject)
            index.set(key, [...(index.get(key) ?? []), client.clientId])
          }
        }
        this.#index = index
        this.#builtAt = this.#now()
      })
      .finally(() => {
        this.#building = undefined
      })
    return this.#building
  }
}
