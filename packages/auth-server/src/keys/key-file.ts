// Key files in KEYS_DIR: RSA (RS256), P-256 (ES256) and Ed25519 (EdDSA) private keys as JWK (with Tollgate's
// lifecycle times) or PEM, read and generated.
import { createPrivateKey, generateKeyPair as generateKeyPairCb, type JsonWebKey, type KeyObject } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import {
  algorithmOfKey,
  jwkThumbprint,
  MIN_RSA_BITS,
  publicJwkOf,
  type SigningAlgorithm,
  TollgateError,
} from '@tollgate/shared'

/** The members of a JWK this module reads (RFC 7517). */
export type JWK = JsonWebKey & { kid?: string; alg?: string; use?: string }

/** RFC 7638 JWK thumbprint of an RSA key: SHA-256 over the canonical JSON of e, kty, n. */
export function rsaThumbprint(n: string, e: string): string {
  return jwkThumbprint({ kty: 'RSA', n, e })
}

const generateKeyPair = promisify(generateKeyPairCb)

/** The public half of a signing key as published in the JWKS: `n`/`e` (RSA), `crv`/`x`/`y` (EC) or `crv`/`x` (OKP). */
export interface PublicJwk {
  readonly kty: 'RSA' | 'EC' | 'OKP'
  readonly kid: string
  readonly use: 'sig'
  readonly alg: SigningAlgorithm
  readonly n?: string
  readonly e?: string
  readonly crv?: 'P-256' | 'Ed25519'
  readonly x?: string
  readonly y?: string
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
  /** What it signs: decided by its type (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA). */
  readonly alg: SigningAlgorithm
  /** Never exported: it stays in this process (and in its file). */
  readonly privateKey: KeyObject
  readonly publicJwk: PublicJwk
  readonly file: string | undefined
}

export interface KeyInfo extends KeyTimes {
  readonly kid: string
  readonly alg: SigningAlgorithm
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
const PRIVATE_JWK_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const

/** Why a private key signs nothing Tollgate signs with, in words an operator can act on. */
function unusable(key: KeyObject): string {
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa') return `RSA key shorter than ${MIN_RSA_BITS} bits`
  if (key.asymmetricKeyType === 'ec') return `EC key on curve ${details?.namedCurve ?? '?'} (ES256 needs P-256)`
  return `a ${key.asymmetricKeyType ?? 'symmetric'} key (use RSA for RS256, P-256 for ES256, Ed25519 for EdDSA)`
}

export async function fromJwk(
  jwk: JWK & { tollgate?: Record<string, unknown> },
  file: string | undefined,
  mtime: number,
): Promise<SigningKey> {
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string') throw new KeystoreError('not a private key')
  const privateJwk = Object.fromEntries(
    PRIVATE_JWK_MEMBERS.filter((m) => jwk[m] !== undefined).map((m) => [m, jwk[m]]),
  ) as JsonWebKey
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: privateJwk, format: 'jwk' })
  } catch {
    throw new KeystoreError(`not a usable ${jwk.kty === 'RSA' ? 'RSA ' : ''}private key`)
  }
  const alg = algorithmOfKey(privateKey)
  if (alg === undefined) throw new KeystoreError(unusable(privateKey))
  if (jwk.alg !== undefined && jwk.alg !== alg) {
    throw new KeystoreError(`"alg": "${String(jwk.alg).slice(0, 16)}" does not fit the key, which signs ${alg}`)
  }
  const publicMembers = publicJwkOf(privateKey)
  const kid = jwkThumbprint(publicMembers)
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
    alg,
    privateKey,
    publicJwk: { ...publicMembers, kid, use: 'sig', alg } as PublicJwk,
    file,
    createdAt,
    activatesAt: time(meta.activates_at, createdAt) ?? createdAt,
    ...(retiresAt === undefined ? {} : { retiresAt }),
  }
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

/** A new private key for `alg`: RSA-2048 (slow, see {@link newRsaKey}), P-256 or Ed25519 (well under a millisecond). */
export async function newPrivateKey(alg: SigningAlgorithm): Promise<KeyObject> {
  if (alg === 'RS256') return newRsaKey()
  if (alg === 'ES256') return (await generateKeyPair('ec', { namedCurve: 'P-256' })).privateKey
  return (await generateKeyPair('ed25519')).privateKey
}

/** A private JWK carrying its lifecycle times, for a freshly generated key of `alg` (or the one given). */
export async function generateKeyJwk(
  alg: SigningAlgorithm,
  times: KeyTimes,
  privateKey?: KeyObject,
): Promise<JWK & { kid: string }> {
  privateKey ??= await newPrivateKey(alg)
  if (algorithmOfKey(privateKey) !== alg) throw new KeystoreError(`the key given does not sign ${alg}`)
  const jwk = privateKey.export({ format: 'jwk' }) as JWK
  return {
    ...jwk,
    kid: jwkThumbprint(publicJwkOf(privateKey)),
    alg,
    use: 'sig',
    tollgate: {
      created_at: new Date(times.createdAt).toISOString(),
      activates_at: new Date(times.activatesAt).toISOString(),
      ...(times.retiresAt === undefined ? {} : { retires_at: new Date(times.retiresAt).toISOString() }),
    },
  } as JWK & { kid: string }
}
