// The demo web app's configuration: where the auth server and API are, and which client it is.
import { ConfigError } from '@tollgate/shared'

export interface DemoConfig {
  readonly port: number
  readonly host: string
  readonly authUrl: string
  readonly apiUrl: string
  readonly clientId: string
}

type Env = Readonly<Record<string, string | undefined>>

function url(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim() || fallback
  try {
    const parsed = new URL(raw)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error()
  } catch {
    throw new ConfigError(name, 'must be an absolute http(s) URL')
  }
  return raw.replace(/\/+$/, '')
}

export function loadConfig(env: Env = process.env): DemoConfig {
  const rawPort = env.PORT?.trim() || '3002'
  if (!/^\d+$/.test(rawPort) || Number(rawPort) > 65_535)
    throw new ConfigError('PORT', 'must be a whole number between 0 and 65535')
  return Object.freeze({
    port: Number(rawPort),
    host: env.HOST?.trim() || '127.0.0.1',
    authUrl: url(env, 'AUTH_URL', 'http://localhost:3000'),
    apiUrl: url(env, 'API_URL', 'http://localhost:3001'),
    clientId: env.CLIENT_ID?.trim() || 'demo-web',
  })
}

export { ConfigError }
