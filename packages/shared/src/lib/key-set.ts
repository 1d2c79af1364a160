// A remote JWKS cache that keeps serving its last good keys when the JWKS endpoint fails.
//
// jose's createRemoteJWKSet fails every verification once its cache is older than
// cacheMaxAge and the endpoint is down; a resource server must not go dark
// because the auth server is restarting. Here stale keys keep working while a
// refresh runs in the background, unknown `kid`s trigger at most one fetch per
// cooldown, and a failed or garbage response never replaces good keys.
import type { CryptoKey, JWSHeaderParameters } from 'jose'
import { InvalidTokenError, JwksFetchError, KeySetUnavailableError } from '../errors.js'

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

/** The key source a verifier uses; see {@link createKeySet}. */
export interface KeySet {
  /** The verification key for a JWS header, fetching the JWKS when it must. */
  getKey(header: JWSHeaderParameters): Promise<CryptoKey>
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

interface KeyEntry {
  readonly key: CryptoKey
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

async function importKeys(doc: unknown): Promise<Map<string, KeyEntry>> {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw new JwksFetchError('JWKS response is not a JWK Set')
  }
  const keys = new Map<string, KeyEntry>()
  for (const jwk of (doc as { keys: unknown[] }).keys) {
    if (typeof jwk !== 'object' || jwk === null) continue
    const { kty, kid, use, alg, n, e } = jwk as Record<string, unknown>
    if (kty !== 'RSA' || typeof kid !== 'string' || typeof n !== 'string' || typeof e !== 'string') continue
    if (use !== undefined && use !== 'sig') continue
    if (alg !== undefined && alg !== 'RS256') continue
    try {
      // Only the public members: a JWKS that (wrongly) carried `d` must not make us hold it.
      const { importJWK } = await import('jose')
      const key = await importJWK({ kty, n, e, alg: 'RS256' }, 'RS256')
      keys.set(kid, { key: key as CryptoKey })
    } catch {
      // An unusable entry is skipped; the others still count.
    }
  }
  if (keys.size === 0) throw new JwksFetchError('JWKS has no usable RS256 signing key')
  return keys
}

/**
 * A JWKS-backed key source with stale-while-revalidate caching.
 *
 * @example
 * const keys = createKeySet({ jwksUri: 'https://auth.example/.well-known/jwks.json' })
 * await jwtVerify(token, keys.getKey, { algorithms: ['RS256'] })
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
  // A stale set is refreshed in the background at most this often while the endpoint keeps failing.
  const staleRetryMs = Math.min(cooldownMs, maxAgeMs)
  if (typeof options.jwksUri === 'string') new URL(options.jwksUri) // throws TypeError early

  let keys = new Map<string, KeyEntry>()
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
      keys = await importKeys(doc)
      loadedAt = now()
      lastError = undefined
      onFetch?.({ ok: true, keys: keys.size, durationMs: now() - started })
    } catch (err) {
      failures++
      const error = err instanceof Error ? err : new Error(String(err))
      lastError = error.message
      onFetch?.({ ok: false, keys: keys.size, durationMs: now() - started, error })
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

  const getKey = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    const { kid } = header
    if (typeof kid !== 'string') throw new InvalidTokenError('ERR_TOKEN_UNKNOWN_KEY', 'token header has no kid')
    const hit = keys.get(kid)
    if (hit) {
      if (stale()) refresh().catch(() => {})
      return hit.key
    }
    if (loadedAt === undefined) {
      if (pending || since(attemptedAt) >= retryMs) await refresh().catch(() => {})
      if (loadedAt === undefined) throw new KeySetUnavailableError()
    } else if (pending || since(attemptedAt) >= cooldownMs) {
      await refresh().catch(() => {})
    }
    const found = keys.get(kid)
    if (!found) throw new InvalidTokenError('ERR_TOKEN_UNKNOWN_KEY', 'token is signed by an unknown key')
    return found.key
  }

  return {
    getKey,
    refresh,
    hasKid: (kid, at) => {
      if (stale(at)) refresh().catch(() => {})
      return keys.has(kid)
    },

    get loaded() {
      return loadedAt !== undefined
    },
    get stats() {
      return { keys: keys.size, fetches, failures, lastSuccessAt: loadedAt, lastError }
    },
  }
}
