// Values a page hands the browser and gets back — a pushed authorization request carried through the sign-in form, a
// device-consent decision — sealed with an HMAC, so the browser can carry them but not change or prolong them.
import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * @example
 * const sealed = seals.seal('device-consent', { userCode, sub }, 300)
 * const payload = seals.open<{ userCode: string; sub: string }>('device-consent', form.consent) // undefined if forged or old
 */
export class Seals {
  readonly #key: Buffer
  readonly #now: () => number

  /** `secret`: the server's secret key; a key for seals is derived from it, so several instances agree. */
  constructor(secret: Buffer, now: () => number) {
    this.#key = createHmac('sha256', secret).update('tollgate page seals v1').digest()
    this.#now = now
  }

  #mac(purpose: string, body: string): Buffer {
    return createHmac('sha256', this.#key).update(`${purpose}\u0000${body}`).digest()
  }

  /** `payload` (JSON) sealed for `purpose`, valid for `ttlSec`. */
  seal(purpose: string, payload: unknown, ttlSec: number): string {
    const body = Buffer.from(JSON.stringify({ p: payload, e: Math.floor(this.#now() / 1000) + ttlSec })).toString(
      'base64url',
    )
    return `${body}.${this.#mac(purpose, body).toString('base64url')}`
  }

  /** The payload of a seal made for `purpose` and not yet expired; undefined for anything else. */
  open<T>(purpose: string, sealed: unknown): T | undefined {
    if (typeof sealed !== 'string' || sealed.length > 32_768) return undefined
    const dot = sealed.indexOf('.')
    if (dot < 1) return undefined
    const body = sealed.slice(0, dot)
    const given = Buffer.from(sealed.slice(dot + 1), 'base64url')
    const expected = this.#mac(purpose, body)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    try {
      const { p, e } = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { p: T; e: number }
      return typeof e === 'number' && e * 1000 > this.#now() ? p : undefined
    } catch {
      return undefined
    }
  }
}
