// Asymmetric JWS signatures with node:crypto (RFC 7515, RFC 7518 §3, RFC 8037, RFC 9864): the one table of
// algorithms that access tokens, revocation events, DPoP proofs and client assertions are checked with, and that the
// auth server signs with. No HMAC and no `none`, by construction: they are not in the table.
import {
  createHash,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  sign as signWith,
  verify as verifyWith,
} from 'node:crypto'
import { hasUniqueMembers } from './unique-members.js'

/** Every algorithm a signature may be checked with; `Ed25519` is RFC 9864's fully specified name for EdDSA. */
export const JWS_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'] as const
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number]

/**
 * The algorithms Tollgate signs tokens with (`SIGNING_ALGS`). Each key type has exactly one of them, so a key names
 * its algorithm: an RSA key RS256, a P-256 key ES256, an Ed25519 key EdDSA.
 */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number]

interface Spec {
  readonly kty: 'RSA' | 'EC' | 'OKP'
  readonly crv?: 'P-256' | 'P-384' | 'Ed25519'
  /** node:crypto's name of the key type (`KeyObject.asymmetricKeyType`) and, for EC, of the curve. */
  readonly keyType: 'rsa' | 'ec' | 'ed25519'
  readonly namedCurve?: 'prime256v1' | 'secp384r1'
  /** node:crypto digest; null where the algorithm hashes by itself (Ed25519). */
  readonly hash: 'sha256' | 'sha384' | null
  /** JWS ECDSA signatures are R‖S (RFC 7518 §3.4), not DER; PSS salt is the digest length (§3.5). */
  readonly options: { readonly dsaEncoding?: 'ieee-p1363'; readonly padding?: number; readonly saltLength?: number }
  /** Length of every valid signature in bytes, where the algorithm fixes it. */
  readonly signatureLength?: number
}

// RSA_PKCS1_PSS_PADDING = 6.
const SPECS: Readonly<Record<JwsAlgorithm, Spec>> = {
  RS256: { kty: 'RSA', keyType: 'rsa', hash: 'sha256', options: {} },
  PS256: { kty: 'RSA', keyType: 'rsa', hash: 'sha256', options: { padding: 6, saltLength: 32 } },
  ES256: {
    kty: 'EC',
    crv: 'P-256',
    keyType: 'ec',
    namedCurve: 'prime256v1',
    hash: 'sha256',
    options: { dsaEncoding: 'ieee-p1363' },
    signatureLength: 64,
  },
  ES384: {
    kty: 'EC',
    crv: 'P-384',
    keyType: 'ec',
    namedCurve: 'secp384r1',
    hash: 'sha384',
    options: { dsaEncoding: 'ieee-p1363' },
    signatureLength: 96,
  },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', keyType: 'ed25519', hash: null, options: {}, signatureLength: 64 },
  Ed25519: { kty: 'OKP', crv: 'Ed25519', keyType: 'ed25519', hash: null, options: {}, signatureLength: 64 },
}

/** RSA keys shorter than this verify nothing (RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048

/** Whether a header's `alg` is one of {@link JWS_ALGORITHMS} (never `none`, never an HMAC). */
export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && Object.hasOwn(SPECS, value)
}

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(value)
}

/**
 * Whether a key (public or private) can make or check `alg` signatures: its type, its curve, and for RSA at least
 * 2048 bits. An RSA key never fits ES256, an HMAC secret fits nothing.
 *
 * @example
 * keyFits('ES256', createPublicKey(jwk)) // false for an RSA or Ed25519 key
 */
export function keyFits(alg: JwsAlgorithm, key: KeyObject): boolean {
  const spec = SPECS[alg]
  if (key.type === 'secret' || key.asymmetricKeyType !== spec.keyType) return false
  if (spec.namedCurve !== undefined) return key.asymmetricKeyDetails?.namedCurve === spec.namedCurve
  if (spec.keyType === 'rsa') return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS
  return true
}

/** Whether a JWK's `kty` (and `crv`) are those of `alg`. */
export function jwkFits(alg: JwsAlgorithm, jwk: Readonly<Record<string, unknown>>): boolean {
  const spec = SPECS[alg]
  return jwk.kty === spec.kty && (spec.crv === undefined || jwk.crv === spec.crv)
}

/** The signing algorithm a key has ({@link SIGNING_ALGORITHMS}), or undefined for any other key. */
export function algorithmOfKey(key: KeyObject): SigningAlgorithm | undefined {
  return SIGNING_ALGORITHMS.find((alg) => keyFits(alg, key))
}

/** The signing algorithm of a public JWK by its type, or undefined; an `alg` member must agree with it. */
export function algorithmOfJwk(jwk: Readonly<Record<string, unknown>>): SigningAlgorithm | undefined {
  const alg = SIGNING_ALGORITHMS.find((a) => jwkFits(a, jwk))
  if (alg === undefined) return undefined
  if (jwk.alg !== undefined && jwk.alg !== alg) return undefined
  return alg
}

/**
 * Checks a signature on the calling thread: right for checks whose result is cached (access tokens) or rare. Never
 * throws: a key that does not fit `alg`, a malformed signature or an error inside node:crypto is `false`.
 *
 * @example
 * verifySignature('ES256', key, Buffer.from(`${h}.${p}`), Buffer.from(s, 'base64url'))
 */
export function verifySignature(alg: JwsAlgorithm, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  const spec = SPECS[alg]
  if (!keyFits(alg, key) || !lengthFits(spec, signature)) return false
  try {
    return verifyWith(spec.hash, input, { key, ...spec.options } as never, signature)
  } catch {
    return false
  }
}

/**
 * Like {@link verifySignature}, on libuv's thread pool: for signatures made afresh for every request (DPoP proofs,
 * client assertions), which no cache can spare, so the check runs beside the event loop.
 */
export function verifySignatureInPool(
  alg: JwsAlgorithm,
  key: KeyObject,
  input: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const spec = SPECS[alg]
  if (!keyFits(alg, key) || !lengthFits(spec, signature)) return Promise.resolve(false)
  return new Promise((resolve) => {
    try {
      verifyWith(spec.hash, input, { key, ...spec.options } as never, signature, (err, valid) =>
        resolve(err === null && valid),
      )
    } catch {
      resolve(false)
    }
  })
}

const lengthFits = (spec: Spec, signature: Buffer) =>
  spec.signatureLength === undefined || signature.length === spec.signatureLength

/**
 * Signs `input` with a private key on the calling thread (ES256 and EdDSA cost tens of microseconds: less than a trip
 * through the thread pool). Throws a TypeError when the key does not fit `alg`.
 */
export function signSync(alg: JwsAlgorithm, key: KeyObject, input: Buffer): Buffer {
  const spec = SPECS[alg]
  if (key.type !== 'private' || !keyFits(alg, key)) throw new TypeError(`the key cannot sign ${alg}`)
  return signWith(spec.hash, input, { key, ...spec.options } as never)
}

/** Signs on libuv's thread pool (RSA signatures cost hundreds of microseconds: both cores work). */
export function signInPool(alg: JwsAlgorithm, key: KeyObject, input: Buffer): Promise<Buffer> {
  const spec = SPECS[alg]
  if (key.type !== 'private' || !keyFits(alg, key)) return Promise.reject(new TypeError(`the key cannot sign ${alg}`))
  return new Promise((resolve, reject) => {
    signWith(spec.hash, input, { key, ...spec.options } as never, (err, signature) =>
      err ? reject(err) : resolve(signature),
    )
  })
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const

/** Whether a JWK carries private (or symmetric) key material. */
export const hasPrivateMembers = (jwk: Readonly<Record<string, unknown>>): boolean =>
  PRIVATE_MEMBERS.some((member) => member in jwk)

/** The public members of a key as a JWK (`kty` and `n`/`e`, `crv`/`x`/`y` or `crv`/`x`), nothing else. */
export function publicJwkOf(key: KeyObject): {
  kty: string
  crv?: string
  x?: string
  y?: string
  n?: string
  e?: string
} {
  const { kty, crv, x, y, n, e } = (key.type === 'private' ? createPublicKey(key) : key).export({
    format: 'jwk',
  }) as JsonWebKey
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)) as {
    kty: string
  }
}

/**
 * A public key from a JWK, reading only its public members (a JWK that wrongly carries `d` does not make us hold a
 * private key); undefined when they do not make a key.
 */
export function importPublicJwk(jwk: Readonly<Record<string, unknown>>): KeyObject | undefined {
  const { kty, crv, x, y, n, e } = jwk
  const members = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined))
  try {
    const key = createPublicKey({ key: members as JsonWebKey, format: 'jwk' })
    return key.type === 'public' ? key : undefined
  } catch {
    return undefined
  }
}

/** RFC 7638 thumbprint of a public JWK: SHA-256 over its required members, in lexicographic order. */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === 'OKP'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
        : { e: jwk.e, kty: jwk.kty, n: jwk.n }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Base64url has unused trailing bits; decoders ignore them, so one signature has several spellings. Only the
 * canonical one (unused bits zero) is accepted: a token has exactly one string form.
 */
export function canonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4
  if (rest === 1) return false
  if (rest === 0) return true
  const last = B64URL.indexOf(segment[segment.length - 1] as string)
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0
}

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** A compact JWS taken apart, nothing verified yet. */
export interface DecodedJws {
  readonly header: Readonly<Record<string, unknown>>
  readonly payload: Readonly<Record<string, unknown>>
  /** `header.payload`, the bytes the signature covers. */
  readonly signingInput: Buffer
  readonly signature: Buffer
}

/** Why a compact JWS could not be taken apart; the message is safe to show (it never quotes the token). */
export class JwsFormatError extends Error {
  override readonly name = 'JwsFormatError'
}

function decodeObject(segment: string, what: string): Record<string, unknown> {
  const text = Buffer.from(segment, 'base64url').toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new JwsFormatError(`its ${what} is not JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwsFormatError(`its ${what} is not an object`)
  }
  if (!hasUniqueMembers(text)) throw new JwsFormatError(`its ${what} has duplicate member names`)
  return value as Record<string, unknown>
}

/**
 * Takes a compact JWS with a JSON payload apart: three canonical base64url segments, a header and payload that are
 * JSON objects without duplicate members, a string `alg` and no `crit`. Throws {@link JwsFormatError}.
 *
 * @example
 * const { header, payload, signingInput, signature } = decodeJws(assertion)
 */
export function decodeJws(token: string, maxLength = 8_192): DecodedJws {
  if (typeof token !== 'string' || token.length > maxLength) throw new JwsFormatError('it is too large')
  if (!COMPACT.test(token) || !token.split('.').every(canonicalBase64url)) {
    throw new JwsFormatError('it is not a compact JWS')
  }
  const first = token.indexOf('.')
  const last = token.lastIndexOf('.')
  const header = decodeObject(token.slice(0, first), 'header')
  if (typeof header.alg !== 'string') throw new JwsFormatError('its header has no alg')
  if (header.crit !== undefined) throw new JwsFormatError('its header has crit parameters')
  return {
    header,
    payload: decodeObject(token.slice(first + 1, last), 'payload'),
    signingInput: Buffer.from(token.slice(0, last)),
    signature: Buffer.from(token.slice(last + 1), 'base64url'),
  }
}
