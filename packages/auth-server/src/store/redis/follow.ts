// Following a Redis stream (the revocation log, the audit log) with XREAD BLOCK on a connection of its own: a
// blocking read must not hold up the store's shared, auto-pipelined connection.
import type { RedisClient } from './connection.js'

const BLOCK_MS = 1_000

/**
 * Follows the stream `key` from `after` (from its start when undefined): a loop of blocking reads on a duplicate of
 * the connection, retried after a pause while Redis is away. Every entry is delivered once, in order. The cursor is
 * always a concrete id, never `$`: `$` means "newer than the newest when this read arrives", so an entry appended
 * between two reads (or before the first one, while the duplicate connects) would be lost.
 */
export function followStream<E extends { readonly id: string }>(
  redis: RedisClient,
  timeoutMs: number,
  key: string,
  after: string | undefined,
  decode: (reply: [string, string[]][] | undefined) => E[],
  onEntries: (entries: E[]) => void,
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
        const reply = (await reader.xread('COUNT', 500, 'BLOCK', BLOCK_MS, 'STREAMS', key, cursor)) as
          | [string, [string, string[]][]][]
          | null
        const entries = decode(reply?.[0]?.[1])
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
