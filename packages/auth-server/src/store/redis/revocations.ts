// The revocation log in Redis: a stream under the {rev} hash tag, read in ranges and followed with XREAD BLOCK on a
// connection of its own (a blocking read must not hold up the store's shared, auto-pipelined connection).
import type { RevocationEntry, RevocationRecord, RevocationState } from '../types.js'
import { keys } from './codec.js'
import type { RedisClient } from './connection.js'

const denialKind = { session: 'sid', user: 'sub', token: 'jti', client: 'client' } as const

/** The denial key of a revocation: what it names. */
export function denialKeyOf(r: RevocationRecord): string {
  const id = r.kind === 'session' ? r.sid : r.kind === 'user' ? r.sub : r.kind === 'token' ? r.jti : r.clientId
  return keys.denial(denialKind[r.kind], id)
}

/** A stream reply (`[[id, [field, value, …]], …]`) as entries; unreadable entries are skipped. */
export function decodeEntries(reply: [string, string[]][] | null | undefined): RevocationEntry[] {
  const entries: RevocationEntry[] = []
  for (const [id, fields] of reply ?? []) {
    const json = fields[fields.indexOf('r') + 1]
    if (!json) continue
    try {
      entries.push({ id, revocation: JSON.parse(json) as RevocationRecord })
    } catch {}
  }
  return entries
}

/** One MGET over the four denials a token can meet (one slot: the {rev} tag). */
export async function revocationState(
  redis: RedisClient,
  names: { jti: string; sid?: string; sub: string; clientId: string },
): Promise<RevocationState> {
  const [jti, sid, sub, client] = await redis.mget(
    keys.denial('jti', names.jti),
    keys.denial('sid', names.sid ?? '-'),
    keys.denial('sub', names.sub),
    keys.denial('client', names.clientId),
  )
  return {
    token: jti !== null,
    session: names.sid !== undefined && sid !== null,
    ...(sub !== null ? { userAt: Number(sub) } : {}),
    ...(client !== null ? { clientAt: Number(client) } : {}),
  }
}

const BLOCK_MS = 1_000

/**
 * Follows the log from `after` (from its start when undefined): a loop of blocking reads on a duplicate of the
 * connection, retried after a pause while Redis is away. Every entry is delivered once, in order. The cursor is
 * always a concrete id, never `$`: `$` means "newer than the newest when this read arrives", so an entry appended
 * between two reads (or before the first one, while the duplicate connects) would be lost.
 */
export function followLog(
  redis: RedisClient,
  timeoutMs: number,
  after: string | undefined,
  onEntries: (entries: RevocationEntry[]) => void,
): { stop(): void } {
  const reader = redis.duplicate() as RedisClient
  // A blocked read answers within BLOCK_MS; the timeout only catches a connection that went silent.
  ;(reader.options as { commandTimeout?: number }).commandTimeout = BLOCK_MS + timeoutMs
  reader.on('error', () => {})
  let cursor = after ?? '0-0'
  let stopped = false
  const loop = async () => {
    while (!stopped) {
      try {
        const reply = (await reader.xread('COUNT', 500, 'BLOCK', BLOCK_MS, 'STREAMS', keys.revocationLog(), cursor)) as
          | [string, [string, string[]][]][]
          | null
        const entries = decodeEntries(reply?.[0]?.[1])
        if (entries.length > 0) {
          cursor = entries.at(-1)?.id as string
          if (!stopped) onEntries(entries)
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
  }
  loop().catch(() => {})
  return {
    stop() {
      stopped = true
      reader.disconnect()
    },
  }
}
