// Stateless verification of Tollgate access tokens (RFC 9068) against the issuer's JWKS.
import type * as Jose from 'jose'
import type { AccessTokenClaims } from './claims.js'
import { InvalidTokenError, TollgateTokenError } from './errors.js'
import { createKeySet, type KeySet, type KeySetFetchEvent } from './lib/key-set.js'
import { hasUniqueMembers } from './lib/unique-members.js'

export interface VerifierOptions {
  /** Expected `iss`, exactly as the auth server's `ISSUER`. */
  readonly issuer: string
  /** This service's identifier; the token's `aud` must contain it (or one of these). */
  readonly audience: string | readonly string[]
  /** JWKS location; by default discovered from the issuer's RFC 8414 metadata. */
  readonly jwksUri?: string | URL
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  readonly clockToleranceSec?: number
  /** Tokens longer than this are refused before any parsing. Default 8 192. */
  readonly maxTokenLength?: number
  /** JWKS fetch tuning; see {@link KeySetOptions}. */
  readonly jwks?: {
    readonly timeoutMs?: number
    readonly cooldownMs?: number
    readonly maxAgeMs?: number
    readonly retryMs?: number
  }
  /** Called after every JWKS fetch attempt (for metrics). */
  readonly onJwksFetch?: (event: KeySetFetchEvent) => void
  /**
   * Verified-token cache: a token verified once is answered from memory until
   * its `exp` (never longer), while its signing key is still in the JWKS.
   * Default 10 000 entries; `false` turns it off.
   */
  readonly cache?: { readonly maxEntries?: number } | false
  readonly fetch?: typeof fetch
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number
}

/** Verifies access tokens; create once per process and share. */
export interface Verifier {
  /**
   * The token's claims when it is a valid access token for this audience;
   * otherwise throws a {@link TollgateTokenError}.
   */
  verify(token: string): Promise<AccessTokenClaims>
  /**
   * The claims of a token this verifier has already verified and may still
   * accept (from its cache), synchronously; `undefined` otherwise — then call
   * {@link verify}.
   */
  cached(token: string): AccessTokenClaims | undefined
  /** The underlying key source (readiness, stats, manual refresh). */
  readonly keys: KeySet
}

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

interface CacheEntry {
  readonly token: string
  readonly claims: AccessTokenClaims

  /** exp (+ clock tolerance), epoch ms: the entry is never used after it. */
  readonly expiresAt: number
  readonly kid: string
}

const CACHE_KEY_CHARS = 6

/**
 * The verified-token cache's key: the character codes of the token's last six characters (the signature's) folded
 * into a small integer, which V8 hashes and compares without allocating.
 */
function cacheKey(token: string): number {
  let key = 0
  for (let i = token.length - CACHE_KEY_CHARS; i < token.length; i++)
    key = (key * 67 + token.charCodeAt(i)) & 0x3fffffff
  return key
}

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

/** RFC 8414 §3: the metadata URL for an issuer, with any path appended after the well-known segment. */
export function metadataUrl(issuer: string): URL {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return new URL(`/.well-known/oauth-authorization-server${path}`, url.origin)
}

async function discoverJwksUri(issuer: string, doFetch: typeof fetch, timeoutMs: number): Promise<string> {
  const response = await doFetch(metadataUrl(issuer), {
    headers: { accept: 'application/json' },
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (response.status !== 200) throw new Error(`issuer metadata answered ${response.status}`)
  const meta = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown }
  if (meta.issuer !== issuer) throw new Error('issuer metadata names a different issuer')
  if (typeof meta.jwks_uri !== 'string') throw new Error('issuer metadata has no jwks_uri')
  return meta.jwks_uri
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
 * Creates a verifier for one audience of one issuer.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'http://localhost:3000', audience: 'http://localhost:3001' })
 * const claims = await verifier.verify(token) // throws InvalidTokenError when it is not acceptable
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const { issuer } = options
  if (typeof issuer !== 'string' || issuer.length === 0) throw new TypeError('issuer must be a non-empty string')
  new URL(issuer)
  const audience = typeof options.audience === 'string' ? options.audience : [...options.audience]
  if (audience.length === 0) throw new TypeError('audience must be a non-empty string or array')
  const clockTolerance = options.clockToleranceSec ?? 5
  const maxTokenLength = options.maxTokenLength ?? 8_192
  const now = options.now ?? Date.now
  const doFetch = options.fetch ?? globalThis.fetch
  const timeoutMs = options.jwks?.timeoutMs ?? 5_000

  const keys = createKeySet({
    jwksUri: options.jwksUri ?? (() => discoverJwksUri(issuer, doFetch, timeoutMs)),
    ...options.jwks,
    fetch: doFetch,
    now,
    ...(options.onJwksFetch ? { onFetch: options.onJwksFetch } : {}),
  })

  const verifyOptions = {
    algorithms: ['RS256'],
    typ: 'at+jwt',
    issuer,
    audience,
    clockTolerance,
    requiredClaims: REQUIRED_CLAIMS,
  }

  const maxEntries = options.cache === false ? 0 : (options.cache?.maxEntries ?? 10_000)
  if (!Number.isInteger(maxEntries) || maxEntries < 0)
    throw new TypeError('cache.maxEntries must be a non-negative integer')
  // Keyed by a number read from the signature's last characters (uniformly random base64url): no string to slice or
  // hash per request. A hit must still equal the whole token, so a colliding key only costs a re-verification.
  const cache = new Map<number, CacheEntry>()
  const toleranceMs = clockTolerance * 1000

  const cached = (token: string): AccessTokenClaims | undefined => {
    if (maxEntries === 0 || typeof token !== 'string' || token.length < CACHE_KEY_CHARS) return undefined
    const key = cacheKey(token)
    const hit = cache.get(key)
    if (hit === undefined || hit.token !== token) return undefined
    const at = now()
    if (at < hit.expiresAt && keys.hasKid(hit.kid, at)) return hit.claims
    cache.delete(key)
    return undefined
  }

  const verify = async (token: string): Promise<AccessTokenClaims> => {
    if (typeof token !== 'string') throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'token is malformed')
    const hit = cached(token)
    if (hit) return hit
    if (token.length > maxTokenLength) throw new InvalidTokenError('ERR_TOKEN_TOO_LARGE', 'token is too large')
    if (!JWS_COMPACT.test(token)) throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'token is malformed')
    if (!token.split('.').every(canonicalBase64url))
      throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'token is malformed')
    const dot = token.indexOf('.')
    const header = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')
    const payload = Buffer.from(token.slice(dot + 1, token.lastIndexOf('.')), 'base64url').toString('utf8')
    if (!hasUniqueMembers(header) || !hasUniqueMembers(payload)) {
      throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'token has duplicate JSON member names')
    }
    try {
      const { jwtVerify } = await loadJose()
      const { payload, protectedHeader } = await jwtVerify(token, keys.getKey, {
        ...verifyOptions,
        currentDate: new Date(now()),
      })
      const claims = Object.freeze(checkClaimTypes(payload as Record<string, unknown>))
      if (maxEntries > 0) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as number)
        cache.set(cacheKey(token), {
          token,
          claims,
          expiresAt: claims.exp * 1000 + toleranceMs,
          kid: protectedHeader.kid as string,
        })
      }
      return claims
    } catch (err) {
      throw translate(err, (await loadJose()).errors)
    }
  }

  return { verify, cached, keys }
}
