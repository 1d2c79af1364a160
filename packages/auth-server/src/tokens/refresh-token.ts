// Refresh tokens: opaque, 256 random bits, addressed by family; stored only as hashes; successors sealed under the parent.
import { createHash, createHmac } from 'node:crypto'
import { randomBase64url } from './random.js'

/**
 * `<sub>.<fid>.<secret>`: the subject and family id locate the family in the
 * store (they share the user's Cluster hash tag); the secret is 256 random bits.
 */
export interface RefreshToken {
  readonly token: string
  readonly sub: string
  readonly fid: string
  readonly secret: string
}

const FORMAT =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/

const make = (sub: string, fid: string, secret: string): RefreshToken => ({
  token: `${sub}.${fid}.${secret}`,
  sub,
  fid,
  secret,
})

/** A new family id: 128 random bits. */
export const newFamilyId = (): string => randomBase64url(16)

/** The first token of a new family (a login). */
export function newRefreshToken(sub: string, fid = newFamilyId()): RefreshToken {
  return make(sub, fid, randomBase64url(32))
}

/** The next token of the same family. */
export function successorOf(parent: RefreshToken): RefreshToken {
  return make(parent.sub, parent.fid, randomBase64url(32))
}

/** Parses a presented token; `undefined` when it cannot be one of ours. */
export function parseRefreshToken(token: string): RefreshToken | undefined {
  const match = FORMAT.exec(token)
  if (!match) return undefined
  return make(match[1] as string, match[2] as string, match[3] as string)
}

/**
 * What the store keeps instead of the token: SHA-256, truncated to 128 bits.
 * The token has 256 bits of entropy, so a fast hash cannot be inverted, and
 * 128 bits leave no practical second preimage.
 */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url')
}

/** A 256-bit keystream from the parent token: HMAC-SHA-256 keyed by a 256-bit random secret is a PRF. */
function pad(parent: string): Buffer {
  return createHmac('sha256', parent).update('tollgate refresh successor v1').digest()
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length)
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number)
  return out
}

/**
 * Encrypts the successor's 256-bit secret under a key derived from its parent
 * token (an HMAC-SHA-256 keystream, used for exactly one secret per parent), so a

 * replayed parent can recover the same successor within the grace window while
 * Redis holds nothing usable by itself. Integrity comes from the store: the
 * recovered successor must hash to the family's current token hash. 43 bytes,
 * small enough to keep the family hash in Redis's compact listpack encoding.
 */
export function sealSuccessor(parent: string, successorSecret: string): string {
  return xor(Buffer.from(successorSecret, 'base64url'), pad(parent)).toString('base64url')
}

/** The successor's secret, or `undefined` when `sealed` is not a sealed secret. */
export function openSuccessor(parent: string, sealed: string): string | undefined {
  const raw = Buffer.from(sealed, 'base64url')
  if (raw.length !== 32) return undefined
  return xor(raw, pad(parent)).toString('base64url')
}

/** The public id of a session: derived from the family id, which it does not reveal. */
export function sessionId(fid: string): string {
  return createHash('sha256').update(`session:${fid}`).digest().subarray(0, 12).toString('base64url')
}
