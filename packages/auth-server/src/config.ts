// The auth server's configuration: the only reader of process.env; validated and frozen.
import path from 'node:path'
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '@tollgate/shared'
import {
  ConfigError,
  type MetricsAccess,
  metricsAccess,
  env as parse,
  tracingConfigured,
} from '@tollgate/shared/service'

export interface Config {
  readonly port: number
  readonly host: string
  /** `iss` of every token, exactly as configured. */
  readonly issuer: string
  /** The issuer without a trailing slash, for building endpoint URLs. */
  readonly baseUrl: string
  readonly redisUrl: string | undefined
  readonly redisClusterNodes: readonly { host: string; port: number }[] | undefined
  /** Prefix of every Redis key, so one Redis can host several deployments or test runs. */
  readonly redisPrefix: string
  /** Milliseconds a store call may wait for Redis before the request answers 503. */
  readonly redisCommandTimeout: number
  /** Replicas that must acknowledge a session write before its refresh token is handed out (Redis WAIT). */
  readonly redisWaitReplicas: number
  readonly keysDir: string
  /** SIGNING_ALGS: the algorithms keys are kept for (RS256 always among them, first). */
  readonly signingAlgs: readonly SigningAlgorithm[]
  /** ACCESS_TOKEN_SIGNING_ALG: access tokens for an audience without its own algorithm (and revocation events). */
  readonly accessTokenSigningAlg: SigningAlgorithm
  /** Seconds. */
  readonly accessTokenTtl: number
  readonly refreshIdleTtl: number
  readonly refreshAbsoluteTtl: number
  readonly refreshReuseGrace: number
  readonly bootstrapFile: string | undefined
  readonly cookieSecure: boolean
  readonly logLevel: string
  /** base64url key for hashing client secrets; by default kept in KEYS_DIR. */
  readonly clientSecretKey: string | undefined
  /** Trust X-Forwarded-* from this many proxies (or a CIDR list); false = none. */
  readonly trustProxy: boolean | number | string
  /** Seconds a rotated-in key is published before it signs; must exceed verifiers' JWKS cache age. */
  readonly keyPublishDelay: number
  /** Seconds between automatic rotations; 0 = only `tollgate keys rotate`. */
  readonly keyRotationInterval: number
  /** Seconds between re-reads of KEYS_DIR (keys added by other instances or the CLI). */
  readonly keysReloadInterval: number
  /** Seconds to keep serving (with /readyz failing) after SIGTERM before closing the listener. */
  readonly shutdownDelay: number
  /** Brute-force protection of password and secret checks. */
  readonly login: {
    /** Failures are forgotten after this long (ms). */
    readonly windowMs: number
    /** From this many failures on, each further attempt must wait 1 s, 2 s, 4 s, … (at most 60 s). */
    readonly delayAfter: number
    /** This many failures lock the account for lockoutMs. */
    readonly maxFailures: number
    readonly lockoutMs: number
    /** This many failures from one IP (any accounts, client secrets too) lock the IP. */
    readonly ipMaxFailures: number
  }
  /** DPOP_NONCE=required: DPoP proofs must carry a current server nonce (RFC 9449 §8). */
  readonly dpopNonceRequired: boolean
  /** Requests per minute per client IP at the token endpoint; 0 = unlimited. */
  readonly tokenRateLimit: number
  /** Demo mode only: the resource API audience and the demo web app origin the seeded clients use. */
  readonly demoAudience: string
  readonly demoWebOrigin: string
  /**
   * RFC 7591 dynamic client registration: `token` (an initial access token from an administrator is required),
   * `open` (anyone may register a client that acts for users), or `off` (no registration endpoint).
   */
  readonly registration: 'token' | 'open' | 'off'
  /** Seconds audit events are kept. */
  readonly auditRetention: number
  /**
   * DEMO_SEED: `auto` seeds the demo clients and user only into the in-memory store without a bootstrap file; `on`
   * also into Redis (what `pnpm start` asks for when REDIS_URL is set); `off` never.
   */
  readonly demoSeed: 'auto' | 'on' | 'off'
  /** RFC 8628: how long a device code and its user code live (s), and the polling interval the device is told. */
  readonly deviceCodeTtl: number
  readonly devicePollInterval: number
  /** REQUIRE_PAR: every client's authorization requests must be pushed first (RFC 9126). PROFILE=fapi2 implies it. */
  readonly requirePar: boolean
  /** PROFILE: `fapi2` applies the FAPI 2.0 Security Profile (profile/fapi2.ts); `none` (default) does not. */
  readonly profile: 'none' | 'fapi2'
  /** Who may read /metrics: METRICS_TOKEN, METRICS_PORT / METRICS_HOST. */
  readonly metrics: MetricsAccess
  /** OpenTelemetry traces over OTLP/HTTP: on when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set. */
  readonly tracing: boolean
  /** METRICS_CLIENT_LABELS: label counters by client_id (off by default: /metrics would list every client). */
  readonly metricsClientLabels: boolean
  /** BANNER_FORMAT: the demo banner as text (default) or as one JSON line `{"tollgate_banner": …}` for a supervisor. */
  readonly bannerFormat: 'text' | 'json'
  /** CONSOLE: the operators' web console at /console and its built-in client `tollgate-console` (on unless fapi2). */
  readonly console: boolean
}

type Env = parse.Env

const { boolean, integer } = parse

function issuerOf(env: Env): string {
  const raw = env.ISSUER?.trim() || 'http://localhost:3000'
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('ISSUER', 'must be an absolute http(s) URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('ISSUER', 'must use https (or http)')
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    throw new ConfigError('ISSUER', 'must not have a query or fragment (RFC 8414)')
  }
  if (url.username || url.password) throw new ConfigError('ISSUER', 'must not contain credentials')
  return raw
}

function urlOf(env: Env, name: string, fallback: string): string {
  const raw = parse.text(env, name) ?? fallback
  try {
    new URL(raw)
  } catch {
    throw new ConfigError(name, 'must be an absolute URL')
  }
  return raw
}

function redisUrlOf(env: Env): string | undefined {
  const raw = env.REDIS_URL?.trim()
  if (!raw) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', 'must be a redis:// or rediss:// URL')
  }
  return raw
}

function clusterNodesOf(env: Env): { host: string; port: number }[] | undefined {
  const raw = env.REDIS_CLUSTER_NODES?.trim()
  if (!raw) return undefined
  return raw.split(',').map((entry) => {
    const match = /^\s*\[?([^\]\s]+?)\]?:(\d{1,5})\s*$/.exec(entry)
    const port = Number(match?.[2])
    if (!match?.[1] || !(port > 0 && port < 65536)) {
      throw new ConfigError('REDIS_CLUSTER_NODES', `"${entry.trim()}" is not host:port`)
    }
    return { host: match[1], port }
  })
}

function trustProxyOf(env: Env): boolean | number | string {
  const raw = env.TRUST_PROXY?.trim()
  if (!raw) return false
  if (/^\d+$/.test(raw)) return Number(raw)
  if (['true', 'false'].includes(raw.toLowerCase())) return raw.toLowerCase() === 'true'
  return raw
}

/** SIGNING_ALGS: a comma-separated list of RS256, ES256, EdDSA; RS256 always among them (it is always published). */
function signingAlgsOf(env: Env): SigningAlgorithm[] {
  const raw = parse.text(env, 'SIGNING_ALGS') ?? 'RS256'
  const algs = raw
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean)
  const unknown = algs.find((a) => !(SIGNING_ALGORITHMS as readonly string[]).includes(a))
  if (unknown !== undefined) {
    throw new ConfigError('SIGNING_ALGS', `"${unknown.slice(0, 32)}" is not one of ${SIGNING_ALGORITHMS.join(', ')}`)
  }
  if (!algs.includes('RS256')) {
    throw new ConfigError('SIGNING_ALGS', 'must include RS256 (always published: the default of ID tokens and OIDC)')
  }
  return [...new Set(['RS256', ...algs])] as SigningAlgorithm[]
}

/**
 * CONSOLE: on by default, except under PROFILE=fapi2, which allows no public client (the console signs in as one);
 * asking for both is a mistake named at startup.
 */
function consoleOf(env: Env): boolean {
  const fapi2 = parse.text(env, 'PROFILE') === 'fapi2'
  const value = parse.oneOf(env, 'CONSOLE', ['on', 'off'], fapi2 ? 'off' : 'on')
  if (value === 'on' && fapi2) {
    throw new ConfigError(
      'CONSOLE',
      'cannot be on with PROFILE=fapi2: the console signs in as a public client, which the profile forbids',
    )
  }
  return value === 'on'
}

/** Whether the issuer is a plain-HTTP loopback address, where Secure cookies cannot work. */
export function isLocalHttp(issuer: string): boolean {
  return /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/i.test(issuer)
}

/**
 * Reads and validates the auth server's configuration.
 *
 * @example
 * const config = loadConfig(process.env) // throws ConfigError('ACCESS_TOKEN_TTL: …')
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const issuer = issuerOf(env)
  const accessTokenTtl = integer(env, 'ACCESS_TOKEN_TTL', 300, 1, 86_400)
  const refreshIdleTtl = integer(env, 'REFRESH_IDLE_TTL', 1_209_600, 60, 31_536_000)
  const refreshAbsoluteTtl = integer(env, 'REFRESH_ABSOLUTE_TTL', 2_592_000, 60, 31_536_000)
  if (env.KEY_ROTATION_INTERVAL && Number(env.KEY_ROTATION_INTERVAL) > 0) {
    const delay = integer(env, 'KEY_PUBLISH_DELAY', 1_200, 0, 604_800)
    if (integer(env, 'KEY_ROTATION_INTERVAL', 0, 0, 31_536_000) <= delay) {
      throw new ConfigError('KEY_ROTATION_INTERVAL', `must be longer than KEY_PUBLISH_DELAY (${delay})`)
    }
  }
  if (refreshIdleTtl > refreshAbsoluteTtl) {
    throw new ConfigError('REFRESH_IDLE_TTL', `must not exceed REFRESH_ABSOLUTE_TTL (${refreshAbsoluteTtl})`)
  }
  const logLevel = parse.oneOf(env, 'LOG_LEVEL', parse.LOG_LEVELS, 'info')
  const clientSecretKey = env.CLIENT_SECRET_KEY?.trim() || undefined
  if (clientSecretKey !== undefined && !/^[A-Za-z0-9_-]{43,}$/.test(clientSecretKey)) {
    throw new ConfigError('CLIENT_SECRET_KEY', 'must be at least 32 bytes, base64url-encoded')
  }
  const redisPrefix = env.REDIS_PREFIX ?? 'tg:'
  if (/[{}\s]/.test(redisPrefix)) throw new ConfigError('REDIS_PREFIX', 'must not contain braces or spaces')
  const bootstrapFile = env.BOOTSTRAP_FILE?.trim() || undefined
  const signingAlgs = signingAlgsOf(env)
  const accessTokenSigningAlg = parse.oneOf(env, 'ACCESS_TOKEN_SIGNING_ALG', SIGNING_ALGORITHMS, 'RS256')
  if (!signingAlgs.includes(accessTokenSigningAlg)) {
    throw new ConfigError(
      'ACCESS_TOKEN_SIGNING_ALG',
      `${accessTokenSigningAlg} is not in SIGNING_ALGS (${signingAlgs.join(',')})`,
    )
  }

  return Object.freeze({
    port: integer(env, 'PORT', 3000, 0, 65_535),
    host: env.HOST?.trim() || '127.0.0.1',
    issuer,
    baseUrl: issuer.replace(/\/+$/, ''),
    redisUrl: redisUrlOf(env),
    redisClusterNodes: clusterNodesOf(env),
    redisPrefix,
    redisCommandTimeout: integer(env, 'REDIS_COMMAND_TIMEOUT', 1_500, 100, 60_000),
    redisWaitReplicas: integer(env, 'REDIS_WAIT_REPLICAS', 0, 0, 16),
    keysDir: path.resolve(cwd, env.KEYS_DIR?.trim() || '.data/keys'),
    signingAlgs,
    accessTokenSigningAlg,
    accessTokenTtl,
    refreshIdleTtl,
    refreshAbsoluteTtl,
    refreshReuseGrace: integer(env, 'REFRESH_REUSE_GRACE', 10, 0, 300),
    bootstrapFile: bootstrapFile === undefined ? undefined : path.resolve(cwd, bootstrapFile),
    cookieSecure: boolean(env, 'COOKIE_SECURE', !isLocalHttp(issuer)),
    logLevel,
    clientSecretKey,
    trustProxy: trustProxyOf(env),
    login: {
      windowMs: integer(env, 'LOGIN_FAILURE_WINDOW', 900, 1, 86_400) * 1000,
      delayAfter: integer(env, 'LOGIN_DELAY_AFTER', 3, 1, 1_000),
      maxFailures: integer(env, 'LOGIN_MAX_FAILURES', 10, 1, 10_000),
      lockoutMs: integer(env, 'LOGIN_LOCKOUT', 900, 1, 86_400) * 1000,
      ipMaxFailures: integer(env, 'LOGIN_IP_MAX_FAILURES', 100, 1, 1_000_000),
    },
    tokenRateLimit: integer(env, 'TOKEN_RATE_LIMIT', 1_200, 0, 10_000_000),
    dpopNonceRequired: parse.oneOf(env, 'DPOP_NONCE', ['off', 'required'], 'off') === 'required',
    keyPublishDelay: integer(env, 'KEY_PUBLISH_DELAY', 1_200, 0, 604_800),
    keyRotationInterval: integer(env, 'KEY_ROTATION_INTERVAL', 0, 0, 31_536_000),
    keysReloadInterval: integer(env, 'KEYS_RELOAD_INTERVAL', 10, 1, 3_600),
    shutdownDelay: integer(env, 'SHUTDOWN_DELAY', 0, 0, 120),
    demoAudience: urlOf(env, 'DEMO_AUDIENCE', 'http://localhost:3001'),
    demoWebOrigin: new URL(urlOf(env, 'DEMO_WEB_ORIGIN', 'http://localhost:3002')).origin,
    registration: parse.oneOf(env, 'REGISTRATION', ['token', 'open', 'off'], 'token'),
    auditRetention: integer(env, 'AUDIT_RETENTION', 2_592_000, 1, 315_360_000),
    demoSeed: parse.oneOf(env, 'DEMO_SEED', ['auto', 'on', 'off'], 'auto'),
    bannerFormat: parse.oneOf(env, 'BANNER_FORMAT', ['text', 'json'], 'text'),
    metrics: metricsAccess(env),
    tracing: tracingConfigured(env),
    deviceCodeTtl: integer(env, 'DEVICE_CODE_TTL', 600, 60, 3_600),
    devicePollInterval: integer(env, 'DEVICE_POLL_INTERVAL', 5, 1, 60),
    requirePar: boolean(env, 'REQUIRE_PAR', false) || parse.text(env, 'PROFILE') === 'fapi2',
    profile: parse.oneOf(env, 'PROFILE', ['none', 'fapi2'], 'none'),
    metricsClientLabels: boolean(env, 'METRICS_CLIENT_LABELS', false),
    console: consoleOf(env),
  })
}

export { ConfigError }
