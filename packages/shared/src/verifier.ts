// Stateless verification of Tollgate access tokens (RFC 9068) against the issuer's JWKS, with a verified-token cache.
import { type AccessTokenCheck, accessTokenCheck } from './access-token.js'
import { bearerToken } from './bearer.js'
import type { AccessTokenClaims } from './claims.js'
import type { DpopNonces } from './dpop/nonce.js'
import { DPOP_ALGORITHMS, type DpopAlgorithm, dpopProofCheck } from './dpop/proof.js'
import { memoryReplayGuard, type ReplayGuard } from './dpop/replay.js'
import { InvalidDpopProofError, InvalidTokenError, TollgateTokenError } from './errors.js'
import { discover, endpoint } from './lib/discovery.js'
import { createKeySet, type KeySet, type KeySetFetchEvent } from './lib/key-set.js'
import { followerFor, type RevocationFollower, type RevocationStatus } from './revocation/follower.js'
import { tracingState, withSpan } from './tracing.js'

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
  /**
   * Follow the issuer's revocation events (docs/revocation-events.md): tokens of ended sessions, disabled users,
   * removed clients and revoked `jti`s are refused within about a second, with no call per request. One subscription
   * per process and issuer, however many verifiers. Default off (the resource API turns it on).
   */
  readonly revocation?:
    | boolean
    | {
        /** The events endpoint; by default `revocation_events_endpoint` from the issuer's metadata. */
        readonly eventsUri?: string | URL
        /**
         * Refuse every token (503 `temporarily_unavailable`) while the feed has been unreachable for longer than
         * this many seconds. Default: keep serving on the denials held.
         */
        readonly maxLagSec?: number
      }
  /**
   * DPoP (RFC 9449): accept `Authorization: DPoP <token>` with a proof by the key the token is bound to. On by
   * default; `false` refuses the DPoP scheme (a DPoP-bound token is refused as `Bearer` either way).
   */
  readonly dpop?:
    | false
    | {
        readonly algorithms?: readonly DpopAlgorithm[]
        /** Require a current server nonce (`use_dpop_nonce` until the client sends one). */
        readonly nonces?: DpopNonces
        /** Where proof ids are remembered. Default: in this process, bounded (`memoryReplayGuard`). */
        readonly replay?: ReplayGuard
        readonly maxAgeSec?: number
      }
  readonly fetch?: typeof fetch
  /**
   * A key set to share with other verifiers of the same issuer (one per audience, say): one JWKS cache and one
   * fetch schedule for all of them. When given, `jwksUri`, `jwks` and `onJwksFetch` are not used.
   */
  readonly keys?: KeySet
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number
}

/** A request as a verifier needs to see it to check a token and, for DPoP, its proof. */
export interface TokenRequest {
  readonly authorization: string | undefined
  /** The DPoP header(s). */
  readonly dpop?: string | readonly string[] | undefined
  readonly method: string
  /** The URL the client addressed (public base URL + path): the proof's `htu`. */
  readonly url: string | URL
}

/** The verifier's view of the revocation feed, when it follows one. */
export interface VerifierRevocation {
  readonly status: RevocationStatus
  /** Resolves once the backlog has been received (readiness). */
  ready(): Promise<void>
  /** Whether the feed has been unreachable for longer than `maxLagSec`. */
  readonly lagging: boolean
}

/** The feed is too far behind to trust the denials: the service's problem (503), not the client's. */
export class RevocationLagError extends TollgateTokenError {
  constructor(lagSeconds: number) {
    super('ERR_REVOCATION_LAG', 503, 'temporarily_unavailable', `revocation events are ${lagSeconds} s behind`)
  }
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
   * {@link verify}. Bearer semantics, like `verify`.
   */
  cached(token: string): AccessTokenClaims | undefined
  /**
   * Verifies a request's credentials: `Bearer <token>` as {@link verify} does, or `DPoP <token>` with its proof
   * (signature, `htm`, `htu`, `iat`, `ath`, replay, nonce) by the key the token is bound to.
   */
  verifyRequest(request: TokenRequest): Promise<AccessTokenClaims>
  /** The DPoP algorithms accepted (for the `algs` of a challenge); empty when DPoP is off. */
  readonly dpopAlgorithms: readonly string[]
  /** The verifier's DPoP nonces, when it requires them. */
  readonly dpopNonces: DpopNonces | undefined
  /** The underlying key source (readiness, stats, manual refresh). */
  readonly keys: KeySet
  /** The revocation feed it follows (`revocation` option); undefined when off. */
  readonly revocation: VerifierRevocation | undefined
}

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

/** The issuer's `jwks_uri`, from its metadata (fetched once, with a timeout). */
async function discoverJwksUri(issuer: string, doFetch: typeof fetch, timeoutMs: number): Promise<string> {
  const metadata = await discover(issuer, async (url) => {
    const res = await doFetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    return { status: res.status, body: await res.json().catch(() => undefined) }
  })
  return endpoint(metadata, 'jwks_uri')
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
  if (options.audience === undefined) throw new TypeError('audience must be a non-empty string or array')
  const clockTolerance = options.clockToleranceSec ?? 5
  const now = options.now ?? Date.now
  const doFetch = options.fetch ?? globalThis.fetch
  const timeoutMs = options.jwks?.timeoutMs ?? 5_000

  const keys =
    options.keys ??
    createKeySet({
      jwksUri: options.jwksUri ?? (() => discoverJwksUri(issuer, doFetch, timeoutMs)),
      ...options.jwks,
      fetch: doFetch,
      now,
      ...(options.onJwksFetch ? { onFetch: options.onJwksFetch } : {}),
    })
  const check = accessTokenCheck({
    issuer,
    audience: options.audience,
    keys,
    clockToleranceSec: clockTolerance,
    now,
    ...(options.maxTokenLength === undefined ? {} : { maxTokenLength: options.maxTokenLength }),
  } satisfies AccessTokenCheck)

  const revocationOptions = options.revocation === true ? {} : options.revocation || undefined
  const follower: RevocationFollower | undefined = revocationOptions
    ? followerFor({
        issuer,
        keys,
        ...(revocationOptions.eventsUri ? { eventsUri: revocationOptions.eventsUri } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        now,
      })
    : undefined
  const maxLagSec = revocationOptions?.maxLagSec
  const lagging = () => maxLagSec !== undefined && follower !== undefined && follower.lagSeconds() > maxLagSec
  /** A verified token still stands: not revoked, and the feed recent enough to say so. */
  const stands = (claims: AccessTokenClaims): boolean =>
    follower === undefined || (!follower.denies(claims) && !lagging())
  const refuse = (claims: AccessTokenClaims): never => {
    if (lagging()) throw new RevocationLagError(follower?.lagSeconds() ?? 0)
    void claims
    throw new InvalidTokenError('ERR_TOKEN_REVOKED', 'token has been revoked')
  }

  const maxEntries = options.cache === false ? 0 : (options.cache?.maxEntries ?? 10_000)
  if (!Number.isInteger(maxEntries) || maxEntries < 0)
    throw new TypeError('cache.maxEntries must be a non-negative integer')
  // Keyed by a number read from the signature's last characters (uniformly random base64url): no string to slice or
  // hash per request. A hit must still equal the whole token, so a colliding key only costs a re-verification.
  const cache = new Map<number, CacheEntry>()
  const toleranceMs = clockTolerance * 1000

  /** The cached verification of a token, revocation aside. */
  const lookup = (token: string): AccessTokenClaims | undefined => {
    if (maxEntries === 0 || typeof token !== 'string' || token.length < CACHE_KEY_CHARS) return undefined
    const key = cacheKey(token)
    const hit = cache.get(key)
    if (hit === undefined || hit.token !== token) return undefined
    const at = now()
    if (at < hit.expiresAt && keys.hasKid(hit.kid, at)) return hit.claims
    cache.delete(key)
    return undefined
  }

  const cached = (token: string): AccessTokenClaims | undefined => {
    const hit = lookup(token)
    return hit !== undefined && stands(hit) ? hit : undefined
  }

  /** Any valid token, bound or not (the caller checks how it was presented). */
  const verifyAny = async (token: string): Promise<AccessTokenClaims> => {
    if (typeof token !== 'string') throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'token is malformed')
    // A cache hit skips the signature, never the revocation check.
    const hit = lookup(token)
    if (hit) return stands(hit) ? hit : refuse(hit)
    // A span for a full verification (a cache hit costs nothing worth one), when the process traces.
    const { claims, kid } = tracingState.enabled
      ? await withSpan('tollgate.verify', { 'tollgate.token': 'access' }, () => check(token))
      : await check(token)
    if (!stands(claims)) refuse(claims)
    if (maxEntries > 0) {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as number)
      cache.set(cacheKey(token), { token, claims, expiresAt: claims.exp * 1000 + toleranceMs, kid })
    }
    return claims
  }

  const bound = () =>
    new InvalidTokenError('ERR_TOKEN_DPOP_BOUND', 'the token is bound to a DPoP key: send it as DPoP with a proof')
  const verify = async (token: string): Promise<AccessTokenClaims> => {
    const claims = await verifyAny(token)
    if (claims.cnf !== undefined) throw bound()
    return claims
  }
  const cachedBearer = (token: string): AccessTokenClaims | undefined => {
    const claims = cached(token)
    return claims?.cnf === undefined ? claims : undefined
  }

  const dpop = options.dpop === false ? undefined : (options.dpop ?? {})
  const checkProof = dpop
    ? dpopProofCheck({
        replay: dpop.replay ?? memoryReplayGuard({ now }),
        now,
        ...(dpop.algorithms ? { algorithms: dpop.algorithms } : {}),
        ...(dpop.nonces ? { nonces: dpop.nonces } : {}),
        ...(dpop.maxAgeSec === undefined ? {} : { maxAgeSec: dpop.maxAgeSec }),
      })
    : undefined
  const dpopAlgorithms = dpop ? [...(dpop.algorithms ?? DPOP_ALGORITHMS)] : []

  const verifyRequest = async (request: TokenRequest): Promise<AccessTokenClaims> => {
    const header = request.authorization
    if (header === undefined || !/^dpop /i.test(header)) return verify(bearerToken(header))
    const token = header.slice(5).trim()
    if (!checkProof) throw new InvalidTokenError('ERR_TOKEN_MALFORMED', 'the DPoP scheme is not accepted here')
    if (token === '' || token.includes(' ')) throw new InvalidDpopProofError('the Authorization header is malformed')
    const proofRequest = { proof: request.dpop, method: request.method, url: request.url, accessToken: token }
    const proof = tracingState.enabled
      ? await withSpan('tollgate.dpop_proof', {}, () => checkProof(proofRequest))
      : await checkProof(proofRequest)
    const claims = await verifyAny(token)
    if (claims.cnf === undefined) throw new InvalidTokenError('ERR_TOKEN_CLAIM', 'the token is not DPoP-bound')
    if (claims.cnf.jkt !== proof.jkt) throw new InvalidDpopProofError('the DPoP proof is by another key than the token')
    return claims
  }

  const revocation: VerifierRevocation | undefined = follower && {
    get status() {
      return follower.status
    },
    ready: () => follower.ready(),
    get lagging() {
      return lagging()
    },
  }
  return {
    verify,
    cached: cachedBearer,
    verifyRequest,
    keys,
    revocation,
    dpopAlgorithms,
    dpopNonces: dpop?.nonces,
  }
}
