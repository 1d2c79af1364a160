// Key files in KEYS_DIR: RSA private keys as JWK (with Tollgate's lifecycle times) or PEM, read and generated.
import {
  createHash,
  createPrivateKey,
  generateKeyPair as generateKeyPairCb,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { TollgateError } from '@tollgate/shared'

/** The members of a JWK this module reads (RFC 7517). */
export type JWK = JsonWebKey & { kid?: string; alg?: string; use?: string }

/** RFC 7638 JWK thumbprint of an RSA key: SHA-256 over the canonical JSON of e, kty, n. */
export function rsaThumbprint(n: string, e: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url')
}

const generateKeyPair = promisify(generateKeyPairCb)

/** The public half of a signing key as published in the JWKS. */
export interface PublicJwk {
  readonly kty: 'RSA'
  readonly kid: string
  readonly use: 'sig'
  readonly alg: 'RS256'
  readonly n: string
  readonly e: string
}

/** Lifecycle times of a key, in epoch milliseconds. */
export interface KeyTimes {
  readonly createdAt: number
  /** The key may sign from this time on; before it, it is only published. */
  readonly activatesAt: number
  /** From this time the key is neither published nor used. */
  readonly retiresAt?: number
}

export type KeyState = 'pending' | 'active' | 'verifying' | 'retired'

export interface SigningKey extends KeyTimes {
  readonly kid: string
  /** Never exported: it stays in this process (and in its file). */
  readonly privateKey: KeyObject
  readonly publicJwk: PublicJwk
  readonly file: string | undefined
}

export interface KeyInfo extends KeyTimes {
  readonly kid: string
  readonly state: KeyState
  readonly file: string | undefined
}

/** Key files could not be used; the message says which and why (never key material). */
export class KeystoreError extends TollgateError {
  constructor(message: string) {
    super('ERR_KEYSTORE', message)
  }
}

export const KEY_FILE = /\.(pem|json)$/i
const MIN_MODULUS_BITS = 2048

function modulusBits(n: string): number {
  return Buffer.from(n, 'base64url').length * 8
}

export async function fromJwk(
  jwk: JWK & { tollgate?: Record<string, unknown> },
  file: string | undefined,
  mtime: number,
) {
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string' || typeof jwk.d !== 'string') {
    throw new KeystoreError('not an RSA private key')
  }
  if (modulusBits(jwk.n) < MIN_MODULUS_BITS) throw new KeystoreError(`RSA key shorter than ${MIN_MODULUS_BITS} bits`)
  const { kty, n, e, d, p, q, dp, dq, qi } = jwk
  const privateJwk = { kty, n, e, d, p, q, dp, dq, qi }
  const kid = rsaThumbprint(n, e)
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' })
  } catch {
    throw new KeystoreError('not a usable RSA private key')
  }
  const time = (value: unknown, fallback: number | undefined): number | undefined => {
    if (value === undefined || value === null) return fallback
    const t = typeof value === 'number' ? value : Date.parse(String(value))
    if (!Number.isFinite(t)) throw new KeystoreError('invalid tollgate lifecycle time')
    return t
  }
  const meta = jwk.tollgate ?? {}
  const createdAt = time(meta.created_at, mtime) ?? mtime
  const retiresAt = time(meta.retires_at, undefined)
  return {
    kid,
    privateKey,
    publicJwk: { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n, e } as PublicJwk,
    file,
    createdAt,
    activatesAt: time(meta.activates_at, createdAt) ?? createdAt,
    ...(retiresAt === undefined ? {} : { retiresAt }),
  } satisfies SigningKey
}

export async function readKeyFile(file: string): Promise<SigningKey> {
  const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)])
  if (file.toLowerCase().endsWith('.json')) {
    let jwk: JWK
    try {
      jwk = JSON.parse(text) as JWK
    } catch {
      throw new KeystoreError('not valid JSON')
    }
    return fromJwk(jwk, file, info.mtimeMs)
  }
  let jwk: JWK
  try {
    jwk = createPrivateKey({ key: text, format: 'pem' }).export({ format: 'jwk' }) as JWK
  } catch {
    throw new KeystoreError('not a PEM private key')
  }
  return fromJwk(jwk, file, info.mtimeMs)
}

/** A new RSA-2048 private key (on the thread pool: 50-500 ms). */
export async function newRsaKey(): Promise<KeyObject> {
  return (await generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 })).privateKey
}

/** A private JWK carrying its lifecycle times, for a freshly generated RSA-2048 key (or the one given). */
export async function generateKeyJwk(times: KeyTimes, privateKey?: KeyObject): Promise<JWK & { kid: string }> {
  privateKey ??= await newRsaKey()
  const jwk = privateKey.export({ format: 'jwk' }) as JWK
  const kid = rsaThumbprint(jwk.n as string, jwk.e as string)
  return {
    ...jwk,
    kid,
    alg: 'RS256',
    use: 'sig',
    tollgate: {
      created_at: new Date(times.createdAt).toISOString(),
      activates_at: new Date(times.activatesAt).toISOString(),
      ...(times.retiresAt === undefined ? {} : { retires_at: new Date(times.retiresAt).toISOString() }),
    },
  } as JWK & { kid: string }
}
