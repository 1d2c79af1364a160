// Server nonces for DPoP (RFC 9449 §8) without shared state: an HMAC of the current time slot, so every instance
// holding the key issues and accepts the same nonces, and they rotate by themselves.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export interface DpopNonces {
  /** The nonce to hand out now (`DPoP-Nonce`). */
  current(): string
  /** Whether a proof's nonce is the current or the previous slot's. */
  valid(nonce: string): boolean
}

/**
 * Nonces valid for one to two periods (the current and the previous slot).
 *
 * @example
 * const nonces = dpopNonces({ key: sharedSecret, periodSec: 60 })
 * reply.header('dpop-nonce', nonces.current())
 */
export function dpopNonces(options: { key?: Buffer; periodSec?: number; now?: () => number } = {}): DpopNonces {
  const key = options.key ?? randomBytes(32)
  const periodMs = (options.periodSec ?? 60) * 1000
  const now = options.now ?? Date.now
  let cached: { slot: number; value: string } | undefined
  const forSlot = (slot: number) => {
    if (cached?.slot === slot) return cached.value
    const value = createHmac('sha256', key).update(`tollgate dpop nonce ${slot}`).digest('base64url').slice(0, 32)
    if (slot === Math.floor(now() / periodMs)) cached = { slot, value }
    return value
  }
  const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
  return {
    current: () => forSlot(Math.floor(now() / periodMs)),
    valid(nonce) {
      const slot = Math.floor(now() / periodMs)
      return same(nonce, forSlot(slot)) || same(nonce, forSlot(slot - 1))
    },
  }
}
