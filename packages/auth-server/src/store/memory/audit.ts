// The audit log in memory, with the same semantics as Redis: ids `<ms>-<seq>` from the event's time (never before
// the newest), entries older than the retention dropped on append, followers notified in order.
import { type AuditEntry, type AuditRange, type AuditWrite, compareLogIds as compareIds } from '../types.js'

const msOf = (id: string) => Number(id.split('-')[0])

export class MemoryAudit {
  #entries: AuditEntry[] = []
  readonly #followers = new Set<(entries: AuditEntry[]) => void>()
  #last = { ms: 0, seq: 0 }

  append({ record, retentionMs }: AuditWrite): string {
    const ms = Math.max(record.time, this.#last.ms)
    this.#last = { ms, seq: ms === this.#last.ms ? this.#last.seq + 1 : 0 }
    const id = `${this.#last.ms}-${this.#last.seq}`
    const entry = { id, event: structuredClone(record) }
    const oldest = record.time - retentionMs
    if (this.#entries.length > 0 && msOf((this.#entries[0] as AuditEntry).id) < oldest) {
      this.#entries = this.#entries.filter((e) => msOf(e.id) >= oldest)
    }
    this.#entries.push(entry)
    for (const follower of this.#followers) follower([structuredClone(entry)])
    return id
  }

  read(range: AuditRange): AuditEntry[] {
    const inRange = (e: AuditEntry) =>
      (range.after === undefined || compareIds(e.id, range.after) > 0) &&
      (range.before === undefined || compareIds(e.id, range.before) < 0) &&
      (range.since === undefined || msOf(e.id) >= range.since) &&
      (range.until === undefined || msOf(e.id) <= range.until)
    const ordered = range.reverse ? [...this.#entries].reverse() : this.#entries
    const out: AuditEntry[] = []
    for (const e of ordered) {
      if (out.length >= range.limit) break
      if (inRange(e)) out.push(structuredClone(e))
    }
    return out
  }

  follow(after: string | undefined, onEntries: (entries: AuditEntry[]) => void): { stop(): void } {
    let cursor = after
    const deliver = (entries: AuditEntry[]) => {
      const fresh = entries.filter((e) => cursor === undefined || compareIds(e.id, cursor) > 0)
      if (fresh.length === 0) return
      cursor = fresh.at(-1)?.id
      onEntries(fresh)
    }
    this.#followers.add(deliver)
    queueMicrotask(() =>
      deliver(this.read({ ...(after === undefined ? {} : { after }), limit: Number.MAX_SAFE_INTEGER })),
    )
    return { stop: () => this.#followers.delete(deliver) }
  }
}
