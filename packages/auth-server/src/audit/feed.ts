// The live audit log an auth-server instance serves over SSE: one store follower per process, fanned out to every
// stream, each resuming from its cursor (Last-Event-ID) with the backlog read from the store, so no event is lost.
import { type AuditEntry, compareLogIds, type Store } from '../store/types.js'
import { type AuditFilter, matchesFilter } from './event.js'

export interface AuditFeedOptions {
  readonly store: Pick<Store, 'readAudit' | 'followAudit'>
  readonly retentionMs: number
  readonly now: () => number
}

type Listener = (entries: readonly AuditEntry[]) => void

/**
 * @example
 * const stop = await feed.subscribe(lastEventId, { types: ['user.*'] }, (entries) => write(entries))
 */
export class AuditFeed {
  readonly #options: AuditFeedOptions
  readonly #listeners = new Set<Listener>()
  #started: Promise<void> | undefined
  #follower: { stop(): void } | undefined
  /** The newest id the follower has delivered (or the newest in the log when it started). */
  #newest: string | undefined
  #closed = false

  constructor(options: AuditFeedOptions) {
    this.#options = options
  }

  /** Starts following the store from its newest entry (earlier ones are read from the store by each subscriber). */
  #start(): Promise<void> {
    this.#started ??= (async () => {
      const [newest] = await this.#options.store.readAudit({ limit: 1, reverse: true })
      this.#newest = newest?.id
      if (this.#closed) return
      this.#follower = this.#options.store.followAudit(this.#newest, (entries) => {
        this.#newest = entries.at(-1)?.id ?? this.#newest
        for (const listener of this.#listeners) listener(entries)
      })
    })().catch((err) => {
      this.#started = undefined
      throw err
    })
    return this.#started
  }

  /**
   * Calls `send` with every matching event after `after` (the backlog from the store first, within the retention),
   * then each new one as any instance appends it, in order and each once. Without `after`, only events from now on.
   * Resolves with the unsubscribe function.
   */
  async subscribe(
    after: string | undefined,
    filter: AuditFilter,
    send: (entries: readonly AuditEntry[]) => void,
  ): Promise<() => void> {
    await this.#start()
    let cursor = after ?? this.#newest
    let queued: AuditEntry[] | undefined = []
    const deliver = (entries: readonly AuditEntry[]) => {
      const fresh = entries.filter((e) => cursor === undefined || compareLogIds(e.id, cursor) > 0)
      if (fresh.length === 0) return
      cursor = fresh.at(-1)?.id
      const matching = fresh.filter((e) => matchesFilter(e, filter))
      if (matching.length > 0) send(matching)
    }
    const listener: Listener = (entries) => (queued ? queued.push(...entries) : deliver(entries))
    this.#listeners.add(listener)
    try {
      if (after !== undefined) {
        const since = this.#options.now() - this.#options.retentionMs
        for (;;) {
          const batch = await this.#options.store.readAudit({
            ...(cursor === undefined ? {} : { after: cursor }),
            since,
            limit: 500,
          })
          deliver(batch)
          if (batch.length < 500) break
        }
      }
    } catch (err) {
      this.#listeners.delete(listener)
      throw err
    }
    const waiting = queued
    queued = undefined
    deliver(waiting)
    return () => this.#listeners.delete(listener)
  }

  get listeners(): number {
    return this.#listeners.size
  }

  close(): void {
    this.#closed = true
    this.#follower?.stop()
    this.#listeners.clear()
  }
}
