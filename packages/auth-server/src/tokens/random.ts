// Random bytes from a pooled buffer: one getrandom call per 4 KiB instead of one per token.
import { randomFillSync } from 'node:crypto'

const POOL_SIZE = 4096
const pool = Buffer.allocUnsafe(POOL_SIZE)
let offset = POOL_SIZE

/** `size` bytes from the CSPRNG, base64url-encoded. Each byte is handed out once. */
export function randomBase64url(size: number): string {
  if (size > POOL_SIZE) return randomFillSync(Buffer.allocUnsafe(size)).toString('base64url')
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool)
    offset = 0
  }
  const out = pool.toString('base64url', offset, offset + size)
  pool.fill(0, offset, offset + size)
  offset += size
  return out
}
