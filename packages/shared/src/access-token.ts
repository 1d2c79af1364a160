// What a valid Tollgate access token is (RFC 9068), decided in one place: every verifier and the auth server's own
// bearer endpoints run this check.
import { type KeyObject, KeyObject as KeyObjectClass, type webcrypto } from 'node:crypto'
import type * as Jose from 'jose'
import type { AccessTokenClaims } from './claims.js'
import { InvalidTokenError, TollgateTokenError } from './errors.js'
import { algorithmOfKey, canonicalBase64url, isSigningAlgorithm, verifySignature } from './lib/jws.js'
import { hasUniqueMembers } from './lib/unique-members.js'

/** Where verification keys come from: a remote JWKS (`createKeySet`) or the issuer's own keystore. */
export interface KeySource {
  /** The key for a JWS header; rejects with a TollgateTokenError (unknown `kid`, keys unavailable). */
  getKey(header: Jose.JWSHeaderParameters): Promise<Jose.CryptoKey | KeyObject>
}

export interface AccessTokenCheck {
  /** Expected `iss`, exactly as the auth server's `ISSUER`. */
  readonly issuer: string
  /**
   * The token's `aud` must contain this (or one of these). Omitted only by the issuer itself, whose own endpoints
   * (userinfo, sessions, introspection) accept its tokens whatever API they were issued for.
   */
  readonly audience?: string | readonly string[]
  readonly keys: KeySource
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  readonly clockToleranceSec?: number
  /** Tokens longer than this are refused before any parsing. Default 8 192. */
  readonly maxTokenLength?: number
  /** Clock in milliseconds. */
  readonly now?: () => number
}

export interface VerifiedAccessToken {
  readonly claims: AccessTokenClaims
  /** The key that signed it. */
  readonly kid: string
}

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']
/** The deepest `act` nesting accepted: a delegation chain longer than this is not a chain a service should trust. */
export const MAX_ACTOR_DEPTH = 8

/** RFC 8693 §4.1: an object with a string `sub`, and optionally a nested actor of the same shape. */
function isActor(value: unknown, depth: number): boolean {
  if (depth >= MAX_ACTOR_DEPTH || typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const { sub, act } = value as { sub?: unknown; act?: unknown }
  return typeof sub === 'string' && sub.length > 0 && (act === undefined || isActor(act, depth + 1))
}

function checkClaimTypes(claims: Record<string, unknown>): AccessTokenClaims {
  const bad = (name: string): never => {
    throw new InvalidTokenError('ERR_TOKEN_CLAIM', `"${name}" claim has the wrong type`)
  }
  for (const name of ['sub', 'jti', 'client_id']) {
    const value = claims[name]
    if (typeof value !== 'string' || value.length === 0) bad(name)
  }
  if (claims.scope !== undefined && typeof claims.scope !== 'string') bad('scope')
  if (claims.auth_time !== undefined && typeof claims.auth_time !== 'number') bad('auth_time')
  if (claims.sid !== undefined && typeof claims.sid !== 'string') bad('sid')
  if (claims.cnf !== undefined) {
    const cnf = claims.cnf as { jkt?: unknown } | null
    if (typeof cnf !== 'object' || cnf === null || typeof cnf.jkt !== 'string') bad('cnf')
  }
  if (claims.act !== undefined && !isActor(claims.act, 0)) bad('act')
  if (claims.roles !== undefined) {
    if (!Array.isArray(claims.roles) || claims.roles.some((r) => typeof r !== 'string')) bad('roles')
  }
  if (claims.scope === undefined) return { ...claims, scope: '' } as AccessTokenClaims
  return claims as AccessTokenClaims
}

const malformed = (message = 'token is malformed') => new InvalidTokenError('ERR_TOKEN_MALFORMED', message)
const claimFailed = (claim: string) => new InvalidTokenError('ERR_TOKEN_CLAIM', `"${claim}" claim check failed`)

/** RFC 8725 §3.11 / RFC 9068 §4: `typ` compared without case and without an `application/` prefix. */
const normalizeTyp = (typ: string) => typ.toLowerCase().replace(/^application\//, '')

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw malformed()
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(`token ${what} is not an object`)
  return value as Record<string, unknown>
}

/** Keys from a JWKS arrive as WebCrypto keys; node:crypto verifies with their KeyObject, converted once per key. */
const keyObjects = new WeakMap<object, KeyObject>()
function keyObjectOf(key: Jose.CryptoKey | KeyObject): KeyObject {
  if (key instanceof KeyObjectClass) return key
  let object = keyObjects.get(key)
  if (object === undefined) {
    object = KeyObjectClass.from(key as unknown as webcrypto.CryptoKey)
    keyObjects.set(key, object)
  }
  return object
}

/** `exp`, `nbf`, `iat` and the presence of the required claims, with the tolerance, as RFC 7519 §4.1 says. */
function checkTimes(payload: Record<string, unknown>, nowSec: number, tolerance: number): void {
  for (const name of REQUIRED_CLAIMS) if (payload[name] === undefined) throw claimFailed(name)
  for (const name of ['exp', 'nbf', 'iat']) {
    const value = payload[name]
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) throw claimFailed(name)
  }
  if ((payload.exp as number) <= nowSec - tolerance)
    throw new InvalidTokenError('ERR_TOKEN_EXPIRED', 'token has expired')
  if (payload.nbf !== undefined && (payload.nbf as number) > nowSec + tolerance) {
    throw new InvalidTokenError('ERR_TOKEN_NOT_YET_VALID', 'token is not yet valid')
  }
}

/**
 * The check every Tollgate access token passes: at most `maxTokenLength`, a compact JWS with canonical base64url
 * and no duplicate JSON members, `alg` RS256, ES256 or EdDSA and exactly that of the key its `kid` names, `typ`
 * `at+jwt`, a signature by one of `keys`, `iss` exactly the issuer, `aud` containing the audience, `exp`/`nbf`/`iat` within the tolerance, and the RFC 9068 claims present
 * with the right types. Anything else throws a {@link TollgateTokenError} (never a jose error).
 *
 * @example
 * const check = accessTokenCheck({ issuer, audience: 'https://api.example', keys })
 * const { claims } = await check(token)
 */
export function accessTokenCheck(options: AccessTokenCheck): (token: string) => Promise<VerifiedAccessToken> {
  const { issuer, keys } = options
  if (typeof issuer !== 'string' || issuer.length === 0) throw new TypeError('issuer must be a non-empty string')
  new URL(issuer)
  if (typeof keys?.getKey !== 'function') throw new TypeError('keys must be a key source')
  const audience =
    options.audience === undefined
      ? undefined
      : typeof options.audience === 'string'
        ? options.audience
        : [...options.audience]
  if (audience !== undefined && audience.length === 0) {
    throw new TypeError('audience must be a non-empty string or array')
  }
  const maxTokenLength = options.maxTokenLength ?? 8_192
  const now = options.now ?? Date.now
  const tolerance = options.clockToleranceSec ?? 5
  const audiences = audience === undefined ? undefined : new Set(typeof audience === 'string' ? [audience] : audience)

  return async (token) => {
    if (typeof token !== 'string') throw malformed()
    if (token.length > maxTokenLength) throw new InvalidTokenError('ERR_TOKEN_TOO_LARGE', 'token is too large')
    if (!JWS_COMPACT.test(token) || !token.split('.').every(canonicalBase64url)) throw malformed()
    const first = token.indexOf('.')
    const last = token.lastIndexOf('.')
    const headerText = Buffer.from(token.slice(0, first), 'base64url').toString('utf8')
    const payloadText = Buffer.from(token.slice(first + 1, last), 'base64url').toString('utf8')
    if (!hasUniqueMembers(headerText) || !hasUniqueMembers(payloadText)) {
      throw malformed('token has duplicate JSON member names')
    }
    // The header decides how to check the signature: an algorithm Tollgate signs with (never none, never an HMAC),
    // and exactly the one of the key its kid names; no extensions we would have to understand.
    const header = parseObject(headerText, 'header')
    if (typeof header.alg !== 'string') throw malformed()
    if (!isSigningAlgorithm(header.alg)) throw new InvalidTokenError('ERR_TOKEN_ALG', 'token algorithm is not allowed')
    if (header.crit !== undefined) throw malformed('token has unsupported crit parameters')
    const key = keyObjectOf(await keys.getKey(header as Jose.JWSHeaderParameters))
    if (key.type !== 'public' || algorithmOfKey(key) !== header.alg) {
      throw new InvalidTokenError('ERR_TOKEN_ALG', 'token algorithm does not fit its key')
    }
    // RS256 verification takes ~20 µs here, ES256 and EdDSA 70-90 µs, once per token (the verifier caches the
    // result): synchronously it costs less CPU than a trip through the thread pool.
    const valid = verifySignature(
      header.alg,
      key,
      Buffer.from(token.slice(0, last)),
      Buffer.from(token.slice(last + 1), 'base64url'),
    )
    if (!valid) throw new InvalidTokenError('ERR_TOKEN_SIGNATURE', 'token signature is invalid')

    // Only a signed payload is read: typ, then the registered claims, then the RFC 9068 ones.
    const payload = parseObject(payloadText, 'claims set')
    if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== 'at+jwt') {
      throw new InvalidTokenError('ERR_TOKEN_TYPE', 'token is not an access token (typ at+jwt)')
    }
    checkTimes(payload, Math.floor(now() / 1000), tolerance)
    if (payload.iss !== issuer) throw claimFailed('iss')
    if (audiences !== undefined) {
      const aud = payload.aud
      const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : []
      if (!list.some((a) => typeof a === 'string' && audiences.has(a))) throw claimFailed('aud')
    }
    return { claims: Object.freeze(checkClaimTypes(payload)), kid: header.kid as string }
  }
}
