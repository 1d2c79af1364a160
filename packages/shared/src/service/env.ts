// Reading a service's environment: one set of parsers, each throwing a ConfigError that names the variable.
import { ConfigError } from '../errors.js'

export type Env = Readonly<Record<string, string | undefined>>

/** The trimmed value, or `undefined` when unset or blank. */
export function text(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim()
  return raw === undefined || raw === '' ? undefined : raw
}

/**
 * A whole number in `[min, max]`; `fallback` when unset.
 *
 * @example
 * const port = integer(env, 'PORT', 3000, 0, 65_535) // ConfigError('PORT: must be a whole number between 0 and 65535')
 */
export function integer(env: Env, name: string, fallback: number, min: number, max: number, unit = ''): number {
  const raw = text(env, name)
  if (raw === undefined) return fallback
  const what = unit ? `a whole number of ${unit}` : 'a whole number'
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be ${what} between ${min} and ${max}`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${value})`)
  return value
}

/** `true`/`yes`/`on`/`1` or `false`/`no`/`off`/`0`; `fallback` when unset. */
export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true
  if (['0', 'false', 'no', 'off'].includes(raw)) return false
  throw new ConfigError(name, 'must be true or false')
}

/** One of `values`; `fallback` when unset. */
export function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = text(env, name) ?? fallback
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${values.join(', ')}`)
  return raw as T
}

/** An absolute http(s) URL, as given; `fallback` when unset (which may be `undefined`). */
export function httpUrl<F extends string | undefined>(env: Env, name: string, fallback: F): string | F {
  const raw = text(env, name) ?? fallback
  if (raw === undefined) return fallback
  try {
    const url = new URL(raw)
    if (url.protocol === 'http:' || url.protocol === 'https:') return raw
  } catch {}
  throw new ConfigError(name, 'must be an absolute http(s) URL')
}

/** A web origin (`scheme://host[:port]`, nothing else). */
export function origin(name: string, value: string): string {
  try {
    const url = new URL(value)
    if (url.origin !== 'null' && url.origin === value.replace(/\/$/, '')) return url.origin
  } catch {}
  throw new ConfigError(name, `"${value}" is not an origin (scheme://host[:port])`)
}

/** A comma-separated list of origins; `fallback` when unset. */
export function origins(env: Env, name: string, fallback: string): string[] {
  return (env[name] ?? fallback)
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => origin(name, o))
}

/** The pino levels a LOG_LEVEL may name. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
