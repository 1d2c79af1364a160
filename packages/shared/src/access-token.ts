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
const ACCESS_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']
/** OIDC Core §2: what every ID token carries. */
const ID_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat']

/** What is being checked: an access token (RFC 9068, `typ` at+jwt) or an ID token (OIDC Core, `typ` JWT). */
type TokenKind = 'access' | 'id'

/** The deepest `act` nesting accepted: a delegation chain longer than this is not a chain a service should trust. */
export const MAX_ACTOR_DEPTH = 8

/**
 * The latest time a token may name (9999-12-31T23:59:59Z, as seconds): anything later is not a time but a number
 * chosen to break arithmetic (`exp * 1000` beyond 2^53, a Redis TTL out of range).
 */
export const MAX_TOKEN_TIME = 253_402_300_799

/** An identifier claim: a non-empty string of at most 1 024 characters with no control characters. */
const IDENTIFIER = /^[^\p{Cc}]{1,1024}$/u
const isIdentifier = (value: unknown): value is string => typeof value === 'string' && IDENTIFIER.test(value)
/** RFC 6749 §3.3: scope-tokens (%x21 / %x23-5B / %x5D-7E) separated by spaces; empty is no scope. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E ]*$/
/** A NumericDate (RFC 7519 §2) as Tollgate issues them: whole seconds, 0 … {@link MAX_TOKEN_TIME}. */
const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_TIME

/** RFC 8693 §4.1: an object with an identifier `sub`, and optionally a nested actor of the same shape. */
function isActor(value: unknown, depth: number): boolean {
  if (depth >= MAX_ACTOR_DEPTH || typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const { sub, act } = value as { sub?: unknown; act?: unknown }
  return isIdentifier(sub) && (act === undefined || isActor(act, depth + 1))
}

/** `aud`: one non-empty string, or a non-empty array of them (RFC 7519 §4.1.3). */
function audienceList(aud: unknown): string[] | undefined {
  if (isIdentifier(aud)) return [aud]
  if (!Array.isArray(aud) || aud.length === 0 || aud.length > 64 || !aud.every(isIdentifier)) return undefined
  return aud as string[]
}

/**
 * Every claim a verifier or its callers read, checked for type and range: a token whose claims are of the wrong type
 * is an invalid token, whatever its signature — so no caller (introspection, revocation, exchange, a Redis script)
 * ever sees a number where it expects a string, a time of 1e308 or an identifier with control characters.
 */
function checkClaimTypes(claims: Record<string, unknown>, kind: TokenKind): AccessTokenClaims {
  const bad = (name: string): never => {
    throw new InvalidTokenError('ERR_TOKEN_CLAIM', `"${name}" claim has the wrong type`)
  }
  for (const name of kind === 'access' ? ['sub', 'jti', 'client_id'] : ['sub']) {
    if (!isIdentifier(claims[name])) bad(name)
  }
  for (const name of ['jti', 'client_id', 'sid', 'nonce', 'azp']) {
    if (claims[name] !== undefined && !isIdentifier(claims[name])) bad(name)
  }
  if (claims.scope !== undefined && (typeof claims.scope !== 'string' || !SCOPE.test(claims.scope))) bad('scope')
  if (claims.auth_time !== undefined && !isTime(claims.auth_time)) bad('auth_time')
  if (claims.cnf !== undefined) {
    const cnf = claims.cnf as { jkt?: unknown } | null
    if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf) || !isIdentifier(cnf.jkt)) bad('cnf')
  }
  if (claims.act !== undefined && !isActor(claims.act, 0)) bad('act')
  if (claims.roles !== undefined) {
    if (!Array.isArray(claims.roles) || claims.roles.length > 256 || !claims.roles.every(isIdentifier)) bad('roles')
  }
  if (kind === 'access' && claims.scope === undefined) return { ...claims, scope: '' } as AccessTokenClaims
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

/**
 * The presence of the required claims, `exp`/`nbf`/`iat` as whole seconds in range, and the times with the tolerance
 * (RFC 7519 §4.1). `expiredGraceSec` extends how long after `exp` a token is still read (logout hints only).
 */
function checkTimes(
  payload: Record<string, unknown>,
  nowSec: number,
  tolerance: number,
  kind: TokenKind,
  expiredGraceSec: number,
): void {
  for (const name of kind === 'access' ? ACCESS_CLAIMS : ID_CLAIMS)
    if (payload[name] === undefined) throw claimFailed(name)
  for (const name of ['exp', 'nbf', 'iat']) {
    const value = payload[name]
    if (value !== undefined && !isTime(value)) throw claimFailed(name)
  }
  if ((payload.exp as number) <= nowSec - tolerance - expiredGraceSec)
    throw new InvalidTokenError('ERR_TOKEN_EXPIRED', 'token has expired')
  if (payload.nbf !== undefined && (payload.nbf as number) > nowSec + tolerance) {
    throw new InvalidTokenError('ERR_TOKEN_NOT_YET_VALID', 'token is not yet valid')
  }
}

/**
 * The check every Tollgate access token passes: at most `maxTokenLength`, a compact JWS with canonical base64url
 * and no duplicate JSON members, `alg` RS256, ES256 or EdDSA and exactly that of the key its `kid` names, `typ`
 * `at+jwt`, a signature by one of `keys`, `iss` exactly the issuer, `aud` containing the audience, `exp`/`nbf`/`iat`
 * within the tolerance, and the RFC 9068 claims present with the right types. Anything else throws a {@link TollgateTokenError} (never a jose error).
 *
 * @example
 * const check = accessTokenCheck({ issuer, audience: 'https://api.example', keys })
 * const { claims } = await check(token)
 */
export function accessTokenCheck(options: AccessTokenCheck): (token: string) => Promise<VerifiedAccessToken> {
  return tokenCheck(options, 'access', 0)
}

export interface IdTokenCheck extends Omit<AccessTokenCheck, 'audience'> {
  /** How long after `exp` the token is still read (OIDC RP-Initiated Logout accepts expired hints). Default 0. */
  readonly expiredGraceSec?: number
}

/**
 * The same check for this issuer's ID tokens (OIDC Core §2; `typ` `JWT`, no `client_id`/`jti` required): the auth
 * server reads logout hints with it, so an ID token's claims have the same types and ranges as an access token's.
 * The caller checks `aud` (the client) itself.
 *
 * @example
 * const check = idTokenCheck({ issuer, keys, expiredGraceSec: 30 * 86_400 })
 * const { claims } = await check(idTokenHint)
 */
export function idTokenCheck(options: IdTokenCheck): (token: string) => Promise<VerifiedAccessToken> {
  const grace = options.expiredGraceSec ?? 0
  if (!Number.isFinite(grace) || grace < 0) throw new TypeError('expiredGraceSec must be a non-negative number')
  return tokenCheck(options, 'id', grace)
}

/** How `typ` must read for each kind, after {@link normalizeTyp}. */
const TYP: Record<TokenKind, [string, string]> = {
  access: ['at+jwt', 'token is not an access token (typ at+jwt)'],
  id: ['jwt', 'token is not an ID token (typ JWT)'],
}

function tokenCheck(
  options: AccessTokenCheck,
  kind: TokenKind,
  expiredGraceSec: number,
): (token: string) => Promise<VerifiedAccessToken> {
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
    const [typ, notTyp] = TYP[kind]
    if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== typ) {
      throw new InvalidTokenError('ERR_TOKEN_TYPE', notTyp)
    }
    checkTimes(payload, Math.floor(now() / 1000), tolerance, kind, expiredGraceSec)
    if (payload.iss !== issuer) throw claimFailed('iss')
    const list = audienceList(payload.aud)
    if (list === undefined) throw new InvalidTokenError('ERR_TOKEN_CLAIM', '"aud" claim has the wrong type')
    if (audiences !== undefined && !list.some((a) => audiences.has(a))) throw claimFailed('aud')
    return { claims: Object.freeze(checkClaimTypes(payload, kind)), kid: header.kid as string }
  }
}
