// Notices a store that lost its data under a running server (Redis restarted empty, a promoted empty replica) and
// heals what the server can: the bootstrap clients and users, applied again.
import type { Store } from './types.js'

export interface StoreWatchOptions {
  readonly store: Store
  readonly log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
  /** How often to look. Default 1 000 ms. */
  readonly intervalMs?: number
  /** What the server put into the store and must find there (the bootstrap records); names of what is missing. */
  readonly missing?: () => Promise<string[]>
  /** Puts it back (re-applies BOOTSTRAP_FILE) and drops caches that would hide the loss. */
  readonly heal?: () => Promise<void>
}

export interface StoreWatch {
  /** One look now; resolves true when it found and healed a loss. Store errors resolve false (next tick retries). */
  check(): Promise<boolean>
  /** One look now that rejects when it could not look or could not heal (the reconnect check retries it). */
  verify(): Promise<boolean>
  stop(): void
}

/**
 * Checks the store's marker (and the bootstrap records) every second. The marker is written once into a store that
 * holds data, so its absence means everything is gone; a missing bootstrap record means part of it is. Either is
 * logged as a warning and healed by `heal`. While the store is unreachable nothing is checked; the first look after
 * it answers again finds the loss, so a Redis that comes back empty is noticed within about a second of reconnecting.
 *
 * @example
 * const watch = watchStore({ store, log, missing: () => missingBootstrapRecords(doc, store), heal: reapply })
 */
export function watchStore(options: StoreWatchOptions): StoreWatch {
  const { store, log } = options
  let running: Promise<boolean> | undefined

  /** Rejects when the store cannot be read or the heal fails. */
  const look = async (): Promise<boolean> => {
    const intact = await store.ensureMarker()
    const missing = (await options.missing?.()) ?? []
    if (intact && missing.length === 0) return false
    log.warn(
      { marker: intact ? 'present' : 'missing', missing: missing.slice(0, 20) },
      intact
        ? 'store data was lost: bootstrap records are missing; applying BOOTSTRAP_FILE again'
        : `store data was lost (the store came back empty: sessions, users and clients in it are gone)${options.heal ? '; applying BOOTSTRAP_FILE again' : ''}`,
    )
    try {
      await options.heal?.()
    } catch (err) {
      log.error({ err }, 'could not apply BOOTSTRAP_FILE again; retrying on the next check')
      throw err
    }
    return true
  }

  const verify = (): Promise<boolean> => {
    running ??= look().finally(() => {
      running = undefined
    })
    return running
  }
  const check = (): Promise<boolean> => verify().catch(() => false)

  const timer = setInterval(() => void check(), options.intervalMs ?? 1_000)
  timer.unref()
  return { check, verify, stop: () => clearInterval(timer) }
}
