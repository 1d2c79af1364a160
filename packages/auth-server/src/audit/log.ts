// The audit log: events written to the store (with the change they record, where the store allows) and to the log,
// kept for AUDIT_RETENTION, queried newest first with filters and cursors.
import type { AuditEntry, AuditWrite, Store } from '../store/types.js'
import {
  type AuditContext,
  type AuditEventJson,
  type AuditEventType,
  type AuditFields,
  type AuditFilter,
  auditJson,
  auditRecord,
  matchesFilter,
} from './event.js'

export interface AuditLogOptions {
  readonly store: Pick<Store, 'appendAudit' | 'readAudit'>
  /** How long events are kept (AUDIT_RETENTION), ms. */
  readonly retentionMs: number
  readonly now: () => number
  /** Where every event is also written (the service log). */
  readonly log?: { info(obj: object, msg: string): void; error(obj: object, msg: string): void }
  /** Called with every event this process records (an embedder forwarding events to a SIEM). */
  readonly onEvent?: (event: AuditEventJson) => void
}

/** A page of a query, newest first; `next` continues after its last entry when there may be more. */
export interface AuditPage {
  readonly entries: AuditEntry[]
  readonly next: string | undefined
}

export interface AuditQuery extends AuditFilter {
  /** Epoch ms, inclusive. */
  readonly since?: number
  readonly until?: number
  /** The `next` of the previous page. */
  readonly cursor?: string
  readonly limit: number
}

/** Entries read per store call while filtering, and at most per page before answering with a cursor. */
const BATCH = 500
const MAX_SCAN = 10_000

/**
 * @example
 * await audit.change('client.deleted', by, { target: { type: 'client', id } }, (write) =>
 *   store.removeClient(id, { audit: write, ifMatch }))
 */
export class AuditLog {
  readonly #options: AuditLogOptions

  constructor(options: AuditLogOptions) {
    this.#options = options
  }

  get retentionMs(): number {
    return this.#options.retentionMs
  }

  /** The write that goes with a change: pass it to the store call that makes the change, then {@link written}. */
  write(type: AuditEventType, by: AuditContext, fields: AuditFields = {}): AuditWrite {
    return { record: auditRecord(type, by, fields, this.#options.now()), retentionMs: this.#options.retentionMs }
  }

  /** After the store accepted a change with its write: the log line and the hook. */
  written(write: AuditWrite): void {
    const event = auditJson(write.record)
    this.#options.log?.info({ audit: event }, `audit: ${event.type}`)
    try {
      this.#options.onEvent?.(event)
    } catch (err) {
      this.#options.log?.error({ err }, 'onAuditEvent hook failed')
    }
  }

  /** Runs a change with its audit write; the event is logged once the change is in the store. */
  async change<T>(
    type: AuditEventType,
    by: AuditContext,
    fields: AuditFields,
    run: (write: AuditWrite) => Promise<T>,
  ): Promise<T> {
    const write = this.write(type, by, fields)
    const result = await run(write)
    this.written(write)
    return result
  }

  /** Records an event that goes with no change of state (a failed sign-in, a key rotation). */
  async record(type: AuditEventType, by: AuditContext, fields: AuditFields = {}): Promise<string> {
    const write = this.write(type, by, fields)
    const id = await this.#options.store.appendAudit(write)
    this.written(write)
    return id
  }

  /**
   * Records a security event without holding up the request it happened in (a sign-in): logged at once, written to
   * the store in the background and retried for up to a minute while the store is away.
   */
  emit(type: AuditEventType, by: AuditContext, fields: AuditFields = {}): void {
    const write = this.write(type, by, fields)
    this.written(write)
    const attempt = (delay: number) => {
      this.#options.store.appendAudit(write).catch((err: unknown) => {
        if (delay > 30_000) {
          this.#options.log?.error({ err, type }, 'an audit event could not be stored (it is in this log)')
          return
        }
        setTimeout(() => attempt(delay * 2), delay).unref()
      })
    }
    attempt(250)
  }

  /**
   * Events newest first, filtered, within the retention. A page ends at `limit` matches or after scanning
   * {@link MAX_SCAN} entries; `next` then continues the scan.
   */
  async query(query: AuditQuery): Promise<AuditPage> {
    const floor = this.#options.now() - this.#options.retentionMs
    const since = Math.max(query.since ?? 0, floor)
    const entries: AuditEntry[] = []
    let before = query.cursor
    let scanned = 0
    for (;;) {
      const batch = await this.#options.store.readAudit({
        ...(before === undefined ? {} : { before }),
        since,
        ...(query.until === undefined ? {} : { until: query.until }),
        limit: BATCH,
        reverse: true,
      })
      for (const entry of batch) {
        scanned++
        before = entry.id
        if (matchesFilter(entry, query) && entries.push(entry) >= query.limit) return { entries, next: entry.id }
      }
      if (batch.length < BATCH) return { entries, next: undefined }
      if (scanned >= MAX_SCAN) return { entries, next: before }
    }
  }
}
