// The gate's configuration: the only reader of process.env (and of the GATE_POLICY file); validated and frozen.
import { readFileSync } from 'node:fs'
import {
  ConfigError,
  type MetricsAccess,
  metricsAccess,
  env as parse,
  tracingConfigured,
} from '@tollgate/shared/service'
import { defaultPolicy, type Policy, PolicyError, parsePolicy } from './policy.js'
import { type TrustedPeer, trustedPeers } from './trust.js'

export interface GateConfig {
  readonly port: number
  readonly host: string
  readonly issuer: string
  /** The default audience: the `aud` a request needs when no rule or parameter names another. */
  readonly audience: string
  readonly jwksUri: string | undefined
  readonly jwksMaxAgeMs: number
  readonly jwksCooldownMs: number
  readonly jwksTimeoutMs: number
  /** Which peers may describe the original request (TRUST_PROXY). */
  readonly trustProxy: TrustedPeer
  /** TRUST_PROXY as given, for the startup line. */
  readonly trustProxySpec: string
  /** Redis for the DPoP replay guard shared by several gates; undefined = in this process. */
  readonly redisUrl: string | undefined
  readonly redisPrefix: string
  readonly dpop: boolean
  readonly dpopNonceRequired: boolean
  readonly dpopNonceKey: Buffer | undefined
  readonly revocationEvents: 'off' | 'on' | URL
  readonly revocationMaxLag: number | undefined
  readonly policy: Policy
  /** Where the policy came from (a file name, `inline`, or `none`). */
  readonly policySource: string
  readonly logLevel: string
  /** Who may read /metrics: METRICS_TOKEN, METRICS_PORT / METRICS_HOST. */
  readonly metrics: MetricsAccess
  /** OpenTelemetry traces over OTLP/HTTP: on when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set. */
  readonly tracing: boolean
}

function nonceKeyOf(env: parse.Env): Buffer | undefined {
  const raw = parse.text(env, 'DPOP_NONCE_KEY')
  if (raw === undefined) return undefined
  if (!/^[A-Za-z0-9_-]{43,}$/.test(raw)) {
    throw new ConfigError('DPOP_NONCE_KEY', 'must be at least 32 bytes, base64url-encoded')
  }
  return Buffer.from(raw, 'base64url')
}

/** REVOCATION_EVENTS: on (default), off, or the events endpoint's URL. */
function revocationEventsOf(env: parse.Env): 'off' | 'on' | URL {
  const raw = parse.text(env, 'REVOCATION_EVENTS') ?? 'on'
  if (['on', 'true', '1', 'yes'].includes(raw.toLowerCase())) return 'on'
  if (['off', 'false', '0', 'no'].includes(raw.toLowerCase())) return 'off'
  return new URL(parse.httpUrl(env, 'REVOCATION_EVENTS', undefined) as string)
}

function trustOf(env: parse.Env): { trustProxy: TrustedPeer; trustProxySpec: string } {
  const spec = parse.text(env, 'TRUST_PROXY') ?? 'loopback'
  try {
    return { trustProxy: trustedPeers(spec), trustProxySpec: spec }
  } catch (err) {
    throw new ConfigError('TRUST_PROXY', (err as Error).message)
  }
}

/**
 * GATE_POLICY: a JSON file of rules, or the JSON itself (a value starting with `{`, handy in a container's
 * environment). Any problem stops startup with one line naming the rule and the field.
 */
function policyOf(env: parse.Env, audience: string, dpop: boolean): { policy: Policy; policySource: string } {
  const raw = parse.text(env, 'GATE_POLICY')
  if (raw === undefined) return { policy: defaultPolicy(audience), policySource: 'none' }
  const inline = raw.startsWith('{')
  const source = inline ? 'inline' : raw
  let text = raw
  if (!inline) {
    try {
      text = readFileSync(raw, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new ConfigError('GATE_POLICY', `cannot read ${raw} (${code === 'ENOENT' ? 'no such file' : code})`)
    }
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new ConfigError('GATE_POLICY', `${inline ? 'the value' : raw} is not valid JSON (${(err as Error).message})`)
  }
  try {
    return { policy: parsePolicy(doc, { audience, dpop }), policySource: source }
  } catch (err) {
    if (err instanceof PolicyError) throw new ConfigError('GATE_POLICY', `${inline ? '' : `${raw}: `}${err.message}`)
    throw err
  }
}

const { httpUrl, integer } = parse

/**
 * @example
 * const config = loadConfig(process.env) // throws ConfigError('GATE_POLICY: rules[1]: unknown field "scope" …')
 */
export function loadConfig(env: parse.Env = process.env): GateConfig {
  const audience = parse.text(env, 'AUDIENCE') ?? 'http://localhost:3003'
  const dpop = parse.boolean(env, 'DPOP', true)
  const dpopNonceRequired = parse.oneOf(env, 'DPOP_NONCE', ['off', 'required'], 'off') === 'required'
  if (dpopNonceRequired && !dpop) throw new ConfigError('DPOP_NONCE', 'is required, but DPoP is off (DPOP=off)')
  const redisUrl = parse.text(env, 'REDIS_URL')
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL')
  }
  return Object.freeze({
    port: integer(env, 'PORT', 3003, 0, 65_535),
    host: parse.text(env, 'HOST') ?? '127.0.0.1',
    issuer: httpUrl(env, 'ISSUER', 'http://localhost:3000'),
    audience,
    jwksUri: httpUrl(env, 'JWKS_URI', undefined),
    jwksMaxAgeMs: integer(env, 'JWKS_CACHE_MAX_AGE', 600, 1, 86_400, 'seconds') * 1000,
    jwksCooldownMs: integer(env, 'JWKS_COOLDOWN', 30, 0, 3_600, 'seconds') * 1000,
    jwksTimeoutMs: integer(env, 'JWKS_TIMEOUT', 5, 1, 60, 'seconds') * 1000,
    ...trustOf(env),
    redisUrl,
    redisPrefix: parse.text(env, 'REDIS_PREFIX') ?? 'tollgate:gate:',
    dpop,
    dpopNonceRequired,
    dpopNonceKey: nonceKeyOf(env),
    revocationEvents: revocationEventsOf(env),
    revocationMaxLag: integer(env, 'REVOCATION_MAX_LAG', 0, 0, 86_400, 'seconds') || undefined,
    ...policyOf(env, audience, dpop),
    logLevel: parse.oneOf(env, 'LOG_LEVEL', parse.LOG_LEVELS, 'info'),
    metrics: metricsAccess(env),
    tracing: tracingConfigured(env),
  })
}

export { ConfigError }
