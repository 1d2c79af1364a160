// The audit log in Redis: a stream under the {rev} hash tag (beside the revocation log, so a revocation and its audit
// event are one script), ids from the events' own clock, read in ranges either way.
import type { AuditEntry, AuditRange, AuditRecord, AuditWrite } from '../types.js'
import { keys } from './codec.js'
import type { RedisClient } from './connection.js'

/** A stream reply (`[[id, [field, value, …]], …]`) as entries; unreadable entries are skipped. */
export function decodeAuditEntries(reply: [string, string[]][] | null | undefined): AuditEntry[] {
  const entries: AuditEntry[] = []
  for (const [id, fields] of reply ?? []) {
    const json = fields[fields.indexOf('e') + 1]
    if (!json) continue
    try {
      entries.push({ id, event: JSON.parse(json) as AuditRecord })
    } catch {}
  }
  return entries
}

const msOf = (id: string) => Number(id.split('-')[0])

/** The XRANGE bounds of a range: the tighter of the cursor (exclusive) and the time (inclusive) on each side. */
export function rangeBounds(range: AuditRange): { start: string; end: string } {
  let start = '-'
  if (range.since !== undefined) start = `${Math.max(0, Math.floor(range.since))}-0`
  if (range.after !== undefined && (range.since === undefined || msOf(range.after) >= range.since)) {
    start = `(${range.after}`
  }
  let end = '+'
  if (range.until !== undefined) end = `${Math.max(0, Math.floor(range.until))}-18446744073709551615`
  if (range.before !== undefined && (range.until === undefined || msOf(range.before) <= range.until)) {
    end = `(${range.before}`
  }
  return { start, end }
}

export async function readAudit(redis: RedisClient, range: AuditRange): Promise<AuditEntry[]> {
  const { start, end } = rangeBounds(range)
  const reply = range.reverse
    ? await redis.xrevrange(keys.auditLog(), end, start, 'COUNT', range.limit)
    : await redis.xrange(keys.auditLog(), start, end, 'COUNT', range.limit)
  return decodeAuditEntries(reply as [string, string[]][])
}

/** The audit arguments of a script that writes its change's event (none: empty strings). */
export function auditArgs(audit: AuditWrite | undefined): {
  audit: string
  auditAt: number
  auditRetentionMs: number
} {
  return audit
    ? { audit: JSON.stringify(audit.record), auditAt: audit.record.time, auditRetentionMs: audit.retentionMs }
    : { audit: '', auditAt: 0, auditRetentionMs: 0 }
}
