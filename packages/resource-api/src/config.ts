// The resource API's configuration: the only reader of process.env; validated and frozen.
import { ConfigError } from '@tollgate/shared'

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
}

type Env = Readonly<Record<string, string | undefined>>

function url(env: Env, name: string, fallback: string | undefined): string | undefined {
  const raw = env[name]?.trim() || fallback
  if (raw === undefined) return undefined
  try {
    const parsed = new URL(raw)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error()
  } catch {
    throw new ConfigError(name, 'must be an absolute http(s) URL')
  }
  return raw
}

function seconds(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim()
  if (!raw) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > max)
    throw new ConfigError(name, `must be a whole number of seconds between ${min} and ${max}`)
  return value
}

function corsOriginsOf(env: Env): string[] {
  const raw = env.CORS_ORIGINS ?? 'http://localhost:3002'
  return raw
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => {
      try {
        const origin = new URL(o).origin
        if (origin === 'null' || origin !== o.replace(/\/$/, '')) throw new Error()
        return origin
      } catch {
        throw new ConfigError('CORS_ORIGINS', `"${o}" is not an origin (scheme://host[:port])`)
      }
    })
}

/**
 * @example
 * const config = loadConfig(process.env) // throws ConfigError('PORT: …')
 */
export function loadConfig(env: Env = process.env): ResourceConfig {
  const rawPort = env.PORT?.trim() || '3001'
  const port = Number(rawPort)
  if (!/^\d+$/.test(rawPort) || port > 65_535)
    throw new ConfigError('PORT', 'must be a whole number between 0 and 65535')
  const logLevel = env.LOG_LEVEL?.trim() || 'info'
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', 'must be one of fatal, error, warn, info, debug, trace, silent')
  }
  return Object.freeze({
    port,
    host: env.HOST?.trim() || '127.0.0.1',
    issuer: url(env, 'ISSUER', 'http://localhost:3000') as string,
    audience: env.AUDIENCE?.trim() || 'http://localhost:3001',
    jwksUri: url(env, 'JWKS_URI', undefined),
    logLevel,
    corsOrigins: corsOriginsOf(env),
    jwksMaxAgeMs: seconds(env, 'JWKS_CACHE_MAX_AGE', 600, 1, 86_400) * 1000,
    jwksCooldownMs: seconds(env, 'JWKS_COOLDOWN', 30, 0, 3_600) * 1000,
    jwksTimeoutMs: seconds(env, 'JWKS_TIMEOUT', 5, 1, 60) * 1000,
  })
}

export { ConfigError }
