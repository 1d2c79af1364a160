// The revocation feed an auth-server instance serves: the store's log, kept in memory while anyone follows it, each
// entry signed once as a SET and fanned out to every follower.
import type { SigningAlgorithm } from '@tollgate/shared'
import type { Keystore } from '../keys/keystore.js'
import type { RevocationEntry, Store } from '../store/types.js'
import { signSecurityEvent } from '../tokens/signer.js'
import { setClaims } from './set.js'

/** One event as served: its cursor and its signed SET. */
export interface FeedEvent {
  readonly id: string
  readonly set: string
}

export type Subscriber = (events: readonly FeedEvent[]) => void

/** Log ids are `<ms>-<seq>`. */
export const CURSOR = /^\d{1,16}-\d{1,10}$/

const compare = (a: string, b: string) => {
  const [am = 0, as = 0] = a.split('-').map(Number)
  const [bm = 0, bs = 0] = b.split('-').map(Number)
  return am - bm || as - bs
}

interface Held extends RevocationEntry {
  set?: Promise<string>
}

export interface RevocationFeedOptions {
  readonly store: Pick<Store, 'readRevocations' | 'followRevocations'>
  readonly keystore: Pick<Keystore, 'signingKey'>
  /** The algorithm SETs are signed with (ACCESS_TOKEN_SIGNING_ALG). Default RS256. */
  readonly alg?: SigningAlgorithm
  readonly issuer: string
  readonly now: () => number
}

/**
 * Started on first use: reads the whole retained log, then follows the store for appends (made by any instance, or
 * the CLI). Entries whose tokens have all expired (`until` passed) are dropped, so a follower never gets more than
 * the retention.
 *
 * @example
 * const { events, cursor } = await feed.page(after, 500)
 */
export class RevocationFeed {
  readonly #options: RevocationFeedOptions
  #entries: Held[] = []
  #ready: Promise<void> | undefined
  #follower: { stop(): void } | undefined
  readonly #subscribers = new Set<Subscriber>()
  /** Fan-outs run one after another, so followers see appends in log order. */
  #chain: Promise<void> = Promise.resolve()
  #closed = false

  constructor(options: RevocationFeedOptions) {
    this.#options = options
  }

  /** Resolves once the retained log is in memory and appends are followed. */
  start(): Promise<void> {
    this.#ready ??= this.#load().catch((err) => {
      this.#ready = undefined
      throw err
    })
    return this.#ready
  }

  async #load(): Promise<void> {
    const { store } = this.#options
    let after: string | undefined
    for (;;) {
      const batch = await store.readRevocations(after, 1000)
      this.#append(batch, false)
      if (batch.length < 1000) break
      after = batch.at(-1)?.id
    }
    if (this.#closed) return
    // From the last entry read: nothing appended meanwhile is missed.
    this.#follower = store.followRevocations(this.#entries.at(-1)?.id ?? after, (entries) =>
      this.#append(entries, true),
    )
  }

  #append(entries: readonly RevocationEntry[], live: boolean): void {
    const last = this.#entries.at(-1)?.id
    const fresh = entries.filter((e) => last === undefined || compare(e.id, last) > 0) as Held[]
    if (fresh.length === 0) return
    this.#entries.push(...fresh)
    this.#trim()
    if (!live || this.#subscribers.size === 0) return
    const signed = this.#signed(fresh)
    this.#chain = this.#chain
      .then(() => signed)
      .then((events) => {
        for (const subscriber of this.#subscribers) subscriber(events)
      })
      .catch(() => {})
  }

  #trim(): void {
    const now = this.#options.now()
    if (this.#entries.length > 0 && (this.#entries[0] as Held).revocation.until <= now) {
      this.#entries = this.#entries.filter((e) => e.revocation.until > now)
    }
  }

  #signed(entries: readonly Held[]): Promise<FeedEvent[]> {
    return Promise.all(
      entries.map(async (entry) => {
        entry.set ??= signSecurityEvent(
          this.#options.keystore,
          setClaims(this.#options.issuer, entry),
          this.#options.alg,
        )
        return { id: entry.id, set: await entry.set }
      }),
    )
  }

  /** The newest entry's id, if any. */
  get cursor(): string | undefined {
    return this.#entries.at(-1)?.id
  }

  #after(after: string | undefined): Held[] {
    this.#trim()
    if (after === undefined) return this.#entries
    // Entries are in id order: the first one past the cursor, by binary search.
    let lo = 0
    let hi = this.#entries.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (compare((this.#entries[mid] as Held).id, after) <= 0) lo = mid + 1
      else hi = mid
    }
    return this.#entries.slice(lo)
  }

  /** Up to `limit` events after the cursor (from the oldest retained without one). */
  async page(after: string | undefined, limit: number): Promise<{ events: FeedEvent[]; more: boolean }> {
    await this.start()
    const rest = this.#after(after)
    return { events: await this.#signed(rest.slice(0, limit)), more: rest.length > limit }
  }

  /**
   * Calls `subscriber` with the events after `after` (the backlog first, then each append as it comes), in order and
   * each once. Returns the unsubscribe function.
   */
  async subscribe(after: string | undefined, subscriber: Subscriber): Promise<() => void> {
    await this.start()
    let cursor = after
    const send = (events: readonly FeedEvent[]) => {
      const fresh = events.filter((e) => cursor === undefined || compare(e.id, cursor) > 0)
      if (fresh.length === 0) return
      cursor = fresh.at(-1)?.id
      subscriber(fresh)
    }
    // Appends that arrive while the backlog is being sent wait for it.
    let queued: FeedEvent[] | undefined = []
    const deliver: Subscriber = (events) => (queued ? queued.push(...events) : send(events))
    this.#subscribers.add(deliver)
    const backlog = this.#after(after)
    for (let i = 0; i < backlog.length; i += 500) send(await this.#signed(backlog.slice(i, i + 500)))
    const waiting = queued
    queued = undefined
    send(waiting)
    return () => this.#subscribers.delete(deliver)
  }

  get followers(): number {
    return this.#subscribers.size
  }

  close(): void {
    this.#closed = true
    this.#follower?.stop()
    this.#subscribers.clear()
  }
}
