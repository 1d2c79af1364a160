// The resource API's configuration: the only reader of process.env; validated and frozen.
import {
  ConfigError,
  type MetricsAccess,
  metricsAccess,
  env as parse,
  tracingConfigured,
} from '@tollgate/shared/service'

export interface ResourceConfig {
  readonly port: number
  readonly host: string
  readonly issuer: string
  readonly audience: string
  readonly jwksUri: string | undefined
  readonly logLevel: string
  /** Browser origins allowed to call the API (CORS). */
  readonly corsOrigins: readonly string[]
  /** JWKS cache tuning, milliseconds: refresh-in-background age, unknown-kid refetch cooldown, fetch timeout. */
  readonly jwksMaxAgeMs: number
  readonly jwksCooldownMs: number
  readonly jwksTimeoutMs: number
  /** Follow the issuer's revocation events: off, on (endpoint from the issuer's metadata), or this endpoint. */
  readonly revocationEvents: 'off' | 'on' | URL
  /** Seconds of feed lag after which tokens are refused (503); undefined = keep serving. */
  readonly revocationMaxLag: number | undefined
  /** Accept DPoP-bound tokens with their proofs (RFC 9449). */
  readonly dpop: boolean
  /** Require server nonces in DPoP proofs. */
  readonly dpopNonceRequired: boolean
  /** The key the nonces are derived from; every instance behind one name must share it. Default: random. */
  readonly dpopNonceKey: Buffer | undefined
  /** The public base URL clients address (DPoP `htu`), when a proxy rewrites scheme or host. */
  readonly publicUrl: string | undefined
  /** Who may read /metrics: METRICS_TOKEN, METRICS_PORT / METRICS_HOST. */
  readonly metrics: MetricsAccess
  /** OpenTelemetry traces over OTLP/HTTP: on when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set. */
  readonly tracing: boolean
}

function nonceKeyOf(env: parse.Env): Buffer | undefined {
  const raw = parse.text(env, 'DPOP_NONCE_KEY')
  if (raw === undefined) return undefined
  if (!/^[A-Za-z0-9_-]{43,}$/.test(raw))
    throw new ConfigError('DPOP_NONCE_KEY', 'must be at least 32 bytes, base64url-encoded')
  return Buffer.from(raw, 'base64url')
}

/** REVOCATION_EVENTS: on (default), off, or the events endpoint's URL (when the issuer's public URL is not reachable). */
function revocationEventsOf(env: parse.Env): 'off' | 'on' | URL {
  const raw = parse.text(env, 'REVOCATION_EVENTS') ?? 'on'
  if (['on', 'true', '1', 'yes'].includes(raw.toLowerCase())) return 'on'
  if (['off', 'false', '0', 'no'].includes(raw.toLowerCase())) return 'off'
  return new URL(httpUrl(env, 'REVOCATION_EVENTS', undefined) as string)
}

const { httpUrl, integer } = parse

/**
 * @example
 * const config = loadConfig(process.env) // throws ConfigError('PORT: …')
 */
export function loadConfig(env: parse.Env = process.env): ResourceConfig {
  return Object.freeze({
    port: integer(env, 'PORT', 3001, 0, 65_535),
    host: parse.text(env, 'HOST') ?? '127.0.0.1',
    issuer: httpUrl(env, 'ISSUER', 'http://localhost:3000'),
    audience: parse.text(env, 'AUDIENCE') ?? 'http://localhost:3001',
    jwksUri: httpUrl(env, 'JWKS_URI', undefined),
    logLevel: parse.oneOf(env, 'LOG_LEVEL', parse.LOG_LEVELS, 'info'),
    corsOrigins: parse.origins(env, 'CORS_ORIGINS', 'http://localhost:3002'),
    jwksMaxAgeMs: integer(env, 'JWKS_CACHE_MAX_AGE', 600, 1, 86_400, 'seconds') * 1000,
    jwksCooldownMs: integer(env, 'JWKS_COOLDOWN', 30, 0, 3_600, 'seconds') * 1000,
    jwksTimeoutMs: integer(env, 'JWKS_TIMEOUT', 5, 1, 60, 'seconds') * 1000,
    revocationEvents: revocationEventsOf(env),
    revocationMaxLag: integer(env, 'REVOCATION_MAX_LAG', 0, 0, 86_400, 'seconds') || undefined,
    dpop: parse.boolean(env, 'DPOP', true),
    dpopNonceRequired: parse.oneOf(env, 'DPOP_NONCE', ['off', 'required'], 'off') === 'required',
    dpopNonceKey: nonceKeyOf(env),
    publicUrl: httpUrl(env, 'PUBLIC_URL', undefined),
    metrics: metricsAccess(env),
    tracing: tracingConfigured(env),
  })
}

export { ConfigError }
