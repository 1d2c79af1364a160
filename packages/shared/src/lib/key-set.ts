// A remote JWKS cache that keeps serving its last good keys when the JWKS endpoint fails.
//
// jose's createRemoteJWKSet fails every verification once its cache is older than
// cacheMaxAge and the endpoint is down; a resource server must not go dark
// because the auth server is restarting. Here stale keys keep working while a
// refresh runs in the background, unknown `kid`s trigger at most one fetch per
// cooldown, and a failed or garbage response never replaces good keys.
import type { KeyObject } from 'node:crypto'
import type { JWSHeaderParameters } from 'jose'
import { InvalidTokenError, JwksFetchError, KeySetUnavailableError } from '../errors.js'
import {
  algorithmOfJwk,
  importPublicJwk,
  isJwsAlgorithm,
  JWS_ALGORITHMS,
  type JwsAlgorithm,
  jwkFits,
  keyFits,
} from './jws.js'

export interface KeySetOptions {
  /** JWKS location, or a function that discovers it (called until it succeeds). */
  readonly jwksUri: string | URL | (() => Promise<string | URL>)
  /** Abort a JWKS (or discovery) fetch after this long. Default 5 000 ms. */
  readonly timeoutMs?: number
  /** Minimum time between fetches caused by an unknown `kid`. Default 30 000 ms. */
  readonly cooldownMs?: number
  /** Age after which keys are refreshed in the background. Default 600 000 ms. */
  readonly maxAgeMs?: number
  /**
   * Minimum time between attempts while no key has ever loaded (every request fails until one does, so retry soon;
   * at most 10 fetches a second reach an issuer that is down). Default 100 ms.
   */
  readonly retryMs?: number
  /** Largest JWKS document accepted. Default 256 KiB. */
  readonly maxBytes?: number
  /**
   * Which keys count: `'signing'` (default) the keys of the algorithms Tollgate signs with (RSA for RS256, P-256 for
   * ES256, Ed25519 for EdDSA; an `alg` member must be that one); `'any'` every key a JWS algorithm can check
   * (a client's keys: PS256 and ES384 too).
   */
  readonly accept?: 'signing' | 'any'
  readonly fetch?: typeof fetch
  readonly now?: () => number
  /** Called after every fetch attempt, for metrics. */
  readonly onFetch?: (event: KeySetFetchEvent) => void
}

export interface KeySetFetchEvent {
  readonly ok: boolean
  readonly keys: number
  readonly durationMs: number
  readonly error?: Error
}

export interface KeySetStats {
  readonly keys: number
  readonly fetches: number
  readonly failures: number
  readonly lastSuccessAt: number | undefined
  readonly lastError: string | undefined
}

/** One key of a set: public, with the `alg` its JWK declared (if any). */
export interface KeySetEntry {
  readonly kid: string | undefined
  readonly key: KeyObject
  readonly alg: JwsAlgorithm | undefined
}

/** The key source a verifier uses; see {@link createKeySet}. */
export interface KeySet {
  /** The verification key for a JWS header, fetching the JWKS when it must. */
  getKey(header: JWSHeaderParameters): Promise<KeyObject>
  /**
   * The keys that may have made a signature with this header: the key its `kid` names (fetched as {@link getKey}
   * does), or without a `kid` every key of the set that fits its `alg` ({@link entryFits}). `afterFailure`: none of
   * the keys returned last time verified, so the set is fetched again first, as for an unknown `kid` (at most once
   * per cooldown).
   */
  candidates(header: JWSHeaderParameters, afterFailure?: boolean): Promise<readonly KeySetEntry[]>
  /** Fetch the JWKS now (single flight); rejects when the fetch fails. */
  refresh(): Promise<void>
  /** Whether a key set has been loaded at least once. */
  readonly loaded: boolean
  /**
   * Whether the current key set holds this `kid` (used to expire cached verifications of removed keys). Like
   * {@link getKey}, starts a background refresh when the set is older than its max age. `at`: the caller's clock
   * reading, when it has just taken one.
   */
  hasKid(kid: string, at?: number): boolean

  readonly stats: KeySetStats
}

/** The keys of a JWK Set, by `kid`, and those without one. */
export interface ImportedKeys {
  readonly byKid: ReadonlyMap<string, KeySetEntry>
  readonly unnamed: readonly KeySetEntry[]
}

const positive = (value: number | undefined, fallback: number, name: string): number => {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative number`)
  }
  return value
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const length = Number(response.headers.get('content-length'))
  if (length > maxBytes) throw new JwksFetchError('JWKS response too large')
  const text = await response.text()
  if (text.length > maxBytes) throw new JwksFetchError('JWKS response too large')
  return text
}

/** Most keys kept from one JWK Set: a key set is a handful of keys, not a place to store thousands. */
const MAX_KEYS = 100

/** Whether an entry may check an `alg` signature: the key fits it and its declared `alg` (if any) is that one. */
export function entryFits(entry: KeySetEntry, alg: string): boolean {
  if (!isJwsAlgorithm(alg) || !keyFits(alg, entry.key)) return false
  if (entry.alg === undefined || entry.alg === alg) return true
  // RFC 9864: Ed25519 is the fully specified name of what a key declared as EdDSA (with crv Ed25519) does.
  return (entry.alg === 'EdDSA' && alg === 'Ed25519') || (entry.alg === 'Ed25519' && alg === 'EdDSA')
}

/** The algorithm a JWK may be used with under `accept`, or undefined when the entry is not usable. */
function usable(
  jwk: Record<string, unknown>,
  accept: 'signing' | 'any',
): { alg: JwsAlgorithm | undefined } | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined
  if (accept === 'signing') {
    const alg = algorithmOfJwk(jwk)
    return alg === undefined ? undefined : { alg }
  }
  if (jwk.alg !== undefined) return isJwsAlgorithm(jwk.alg) && jwkFits(jwk.alg, jwk) ? { alg: jwk.alg } : undefined
  return JWS_ALGORITHMS.some((alg) => jwkFits(alg, jwk)) ? { alg: undefined } : undefined
}

/**
 * Imports the usable public keys of a JWK Set (only their public members: a set that wrongly carries `d` does not
 * make us hold it). Unusable entries are skipped; a document that is not a JWK Set, or has no usable key, throws a
 * {@link JwksFetchError}.
 *
 * @example
 * const { byKid } = importJwks({ keys: [jwk] }, 'any')
 */
export function importJwks(doc: unknown, accept: 'signing' | 'any' = 'signing'): ImportedKeys {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw new JwksFetchError('JWKS response is not a JWK Set')
  }
  const byKid = new Map<string, KeySetEntry>()
  const unnamed: KeySetEntry[] = []
  for (const jwk of (doc as { keys: unknown[] }).keys) {
    if (byKid.size + unnamed.length >= MAX_KEYS) break
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) continue
    const entry = jwk as Record<string, unknown>
    const use = usable(entry, accept)
    if (use === undefined || (entry.kid !== undefined && typeof entry.kid !== 'string')) continue
    const key = importPublicJwk(entry)
    // A key no algorithm can use (an RSA key under 2048 bits) is as good as absent.
    if (key === undefined || !JWS_ALGORITHMS.some((alg) => keyFits(alg, key))) continue
    const kid = entry.kid as string | undefined
    if (kid === undefined) unnamed.push({ kid, key, alg: use.alg })
    else if (!byKid.has(kid)) byKid.set(kid, { kid, key, alg: use.alg })
  }
  if (byKid.size + unnamed.length === 0) throw new JwksFetchError('JWKS has no usable signing key')
  return { byKid, unnamed }
}

/**
 * A JWKS-backed key source with stale-while-revalidate caching.
 *
 * @example
 * const keys = createKeySet({ jwksUri: 'https://auth.example/.well-known/jwks.json' })
 * await jwtVerify(token, keys.getKey, { algorithms: ['RS256', 'ES256', 'EdDSA'] })
 */
export function createKeySet(options: KeySetOptions): KeySet {
  const timeoutMs = positive(options.timeoutMs, 5_000, 'timeoutMs')
  const cooldownMs = positive(options.cooldownMs, 30_000, 'cooldownMs')
  const maxAgeMs = positive(options.maxAgeMs, 600_000, 'maxAgeMs')
  const retryMs = positive(options.retryMs, 100, 'retryMs')
  const maxBytes = positive(options.maxBytes, 256 * 1024, 'maxBytes')
  const doFetch = options.fetch ?? globalThis.fetch
  const now = options.now ?? Date.now
  const { onFetch } = options
  const accept = options.accept ?? 'signing'
  // A stale set is refreshed in the background at most this often while the endpoint keeps failing.
  const staleRetryMs = Math.min(cooldownMs, maxAgeMs)
  if (typeof options.jwksUri === 'string') new URL(options.jwksUri) // throws TypeError early

  let keys: ReadonlyMap<string, KeySetEntry> = new Map()
  let unnamed: readonly KeySetEntry[] = []
  let loadedAt: number | undefined
  let attemptedAt: number | undefined
  let pending: Promise<void> | undefined
  let resolvedUri: URL | undefined
  let fetches = 0
  let failures = 0
  let lastError: string | undefined

  const resolveUri = async (): Promise<URL> => {
    if (resolvedUri) return resolvedUri
    const source = options.jwksUri
    resolvedUri = new URL(typeof source === 'function' ? await source() : source)
    return resolvedUri
  }

  const load = async (): Promise<void> => {
    const started = now()
    attemptedAt = started
    fetches++
    try {
      const uri = await resolveUri()
      const response = await doFetch(uri, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      }).catch((err: Error) => {
        throw new JwksFetchError(
          err.name === 'TimeoutError' ? 'JWKS fetch timed out' : `JWKS fetch failed: ${err.message}`,
        )
      })
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {})
        throw new JwksFetchError(`JWKS endpoint answered ${response.status}`)
      }
      let doc: unknown
      try {
        doc = JSON.parse(await readLimited(response, maxBytes))
      } catch (err) {
        throw err instanceof JwksFetchError ? err : new JwksFetchError('JWKS response is not JSON')
      }
      const imported = importJwks(doc, accept)
      keys = imported.byKid
      unnamed = imported.unnamed
      loadedAt = now()
      lastError = undefined
      onFetch?.({ ok: true, keys: keys.size + unnamed.length, durationMs: now() - started })
    } catch (err) {
      failures++
      const error = err instanceof Error ? err : new Error(String(err))
      lastError = error.message
      onFetch?.({ ok: false, keys: keys.size + unnamed.length, durationMs: now() - started, error })
      throw error
    }
  }

  const refresh = (): Promise<void> => {
    pending ??= load().finally(() => {
      pending = undefined
    })
    return pending
  }

  const since = (t: number | undefined, at = now()): number => (t === undefined ? Number.POSITIVE_INFINITY : at - t)
  /** The set is past its max age and no attempt is recent: time for a background refresh. */
  const stale = (at = now()): boolean => since(loadedAt, at) > maxAgeMs && since(attemptedAt, at) >= staleRetryMs

  /** Loads the set when it never was (or refetches within the cooldown's bounds, `unknown`: a kid it lacks). */
  const ensure = async (unknown: boolean): Promise<void> => {
    if (loadedAt === undefined) {
      if (pending || since(attemptedAt) >= retryMs) await refresh().catch(() => {})
      if (loadedAt === undefined) throw new KeySetUnavailableError()
    } else if (unknown && (pending || since(attemptedAt) >= cooldownMs)) {
      await refresh().catch(() => {})
    } else if (stale()) {
      refresh().catch(() => {})
    }
  }

  const entry = async (kid: string): Promise<KeySetEntry> => {
    const hit = keys.get(kid)
    if (hit) {
      if (stale()) refresh().catch(() => {})
      return hit
    }
    await ensure(true)
    const found = keys.get(kid)
    if (!found) throw new InvalidTokenError('ERR_TOKEN_UNKNOWN_KEY', 'token is signed by an unknown key')
    return found
  }

  const getKey = async (header: JWSHeaderParameters): Promise<KeyObject> => {
    const { kid } = header
    if (typeof kid !== 'string') throw new InvalidTokenError('ERR_TOKEN_UNKNOWN_KEY', 'token header has no kid')
    return (await entry(kid)).key
  }

  const candidates = async (header: JWSHeaderParameters, afterFailure = false): Promise<readonly KeySetEntry[]> => {
    if (header.kid !== undefined && typeof header.kid !== 'string') {
      throw new InvalidTokenError('ERR_TOKEN_UNKNOWN_KEY', 'token header kid is malformed')
    }
    if (afterFailure) await ensure(true)
    if (typeof header.kid === 'string') return [await entry(header.kid)]
    await ensure(false)
    const alg = String(header.alg)
    return [...keys.values(), ...unnamed].filter((e) => entryFits(e, alg))
  }

  return {
    getKey,
    candidates,
    refresh,
    hasKid: (kid, at) => {
      if (stale(at)) refresh().catch(() => {})
      return keys.has(kid)
    },

    get loaded() {
      return loadedAt !== undefined
    },
    get stats() {
      return { keys: keys.size + unnamed.length, fetches, failures, lastSuccessAt: loadedAt, lastError }
    },
  }
}
