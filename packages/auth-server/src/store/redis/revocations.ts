// The revocation log in Redis: a stream under the {rev} hash tag, read in ranges and followed with XREAD BLOCK on a
// connection of its own (a blocking read must not hold up the store's shared, auto-pipelined connection).
import type { RevocationEntry, RevocationRecord, RevocationState } from '../types.js'
import { keys } from './codec.js'
import type { RedisClient } from './connection.js'
import { followStream } from './follow.js'

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

/**
 * Follows the revocation log from `after` (from its start when undefined); see {@link followStream}.
 */
export function followLog(
  redis: RedisClient,
  timeoutMs: number,
  after: string | undefined,
  onEntries: (entries: RevocationEntry[]) => void,
): { stop(): void } {
  return followStream(redis, timeoutMs, keys.revocationLog(), after, decodeEntries, onEntries)
}
