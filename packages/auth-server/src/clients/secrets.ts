// Client secrets: generated with 256 bits of entropy, stored as an HMAC-SHA-256 keyed hash, checked in constant time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

const PREFIX = 'hmac-sha256$'

/** A new client secret: 32 random bytes, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Hashes and checks client secrets. They are high-entropy, so a fast keyed hash
 * is as strong as a slow one and keeps the token endpoint fast; the key (kept
 * outside Redis) means a Redis dump alone cannot confirm a guessed secret.
 *
 * @example
 * const hasher = new SecretHasher(key)
 * const stored = hasher.hash(secret)
 * hasher.verify(presented, stored) // true / false, constant time
 */
export class SecretHasher {
  readonly #key: Buffer
  readonly #dummy: string

  constructor(key: Buffer) {
    if (key.length < 32) throw new TypeError('client secret key must be at least 32 bytes')
    this.#key = key
    this.#dummy = this.hash(generateSecret())
  }

  hash(secret: string): string {
    return PREFIX + createHmac('sha256', this.#key).update(secret, 'utf8').digest('base64url')
  }

  /** Constant-time check; pass `undefined` as `stored` to spend the same work on an unknown client. */
  verify(secret: string, stored: string | undefined): boolean {
    const expected = Buffer.from(stored ?? this.#dummy, 'utf8')
    const actual = Buffer.from(this.hash(secret), 'utf8')
    const same = actual.length === expected.length && timingSafeEqual(actual, expected)
    return same && stored !== undefined
  }
}
