// What a valid Tollgate access token is (RFC 9068), decided in one place: every verifier and the auth server's own
// bearer endpoints run this check.
import type { KeyObject } from 'node:crypto'
import type * as Jose from 'jose'
import type { AccessTokenClaims } from './claims.js'
import { InvalidTokenError, TollgateTokenError } from './errors.js'
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
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Base64url has unused trailing bits; decoders ignore them, so one signature has several spellings. Only the
 * canonical one (unused bits zero) is accepted: a token has exactly one string form.
 */
function canonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4
  if (rest === 1) return false
  if (rest === 0) return true
  const last = B64URL.indexOf(segment[segment.length - 1] as string)
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0
}

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

// jose is loaded with the first token to verify, not with the module: services importing this package for its
// types, errors or hooks start without it.
let jose: typeof Jose | undefined
const loadJose = async () => {
  jose ??= await import('jose')
  return jose
}

function translate(err: unknown, joseErrors: typeof Jose.errors): TollgateTokenError {
  if (err instanceof TollgateTokenError) return err
  if (err instanceof joseErrors.JWTExpired) return new InvalidTokenError('ERR_TOKEN_EXPIRED', 'token has expired')
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new InvalidTokenError('ERR_TOKEN_NOT_YET_VALID', 'token is not yet valid')
    if (err.claim === 'typ') return new InvalidTokenError('ERR_TOKEN_TYPE', 'token is not an access token (typ at+jwt)')
    return new InvalidTokenError('ERR_TOKEN_CLAIM', `"${err.claim}" claim check failed`)
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return new InvalidTokenError('ERR_TOKEN_ALG', 'token algorithm is not allowed')
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError('ERR_TOKEN_SIGNATURE', 'token signature is invalid')
  }
  if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) {
    return new InvalidTokenError('ERR_TOKEN_MALFORMED', 'token is malformed')
  }
  throw err
}

/**
 * The check every Tollgate access token passes: at most `maxTokenLength`, a compact JWS with canonical base64url
 * and no duplicate JSON members, `alg` RS256 only, `typ` `at+jwt`, a signature by one of `keys`, `iss` exactly the
 * issuer, `aud` containing the audience, `exp`/`nbf`/`iat` within the tolerance, and the RFC 9068 claims present
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
  const getKey = (header: Jose.JWSHeaderParameters) => keys.getKey(header)
  const joseOptions = {
    algorithms: ['RS256'],
    typ: 'at+jwt',
    issuer,
    ...(audience === undefined ? {} : { audience }),
    clockTolerance: options.clockToleranceSec ?? 5,
    requiredClaims: REQUIRED_CLAIMS,
  }

  return async (token) => {
    if (typeof token !== 'string') throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'token is malformed')
    if (token.length > maxTokenLength) throw new InvalidTokenError('ERR_TOKEN_TOO_LARGE', 'token is too large')
    if (!JWS_COMPACT.test(token) || !token.split('.').every(canonicalBase64url)) {
      throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'token is malformed')
    }
    const dot = token.indexOf('.')
    const header = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')
    const payload = Buffer.from(token.slice(dot + 1, token.lastIndexOf('.')), 'base64url').toString('utf8')
    if (!hasUniqueMembers(header) || !hasUniqueMembers(payload)) {
      throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'token has duplicate JSON member names')
    }
    const { jwtVerify, errors } = await loadJose()
    try {
      const verified = await jwtVerify(token, getKey, { ...joseOptions, currentDate: new Date(now()) })
      return {
        claims: Object.freeze(checkClaimTypes(verified.payload as Record<string, unknown>)),
        kid: verified.protectedHeader.kid as string,
      }
    } catch (err) {
      throw translate(err, errors)
    }
  }
}
