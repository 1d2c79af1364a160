// The demo web app's configuration: where the auth server and API are, and which client it is.
import { ConfigError, env as parse } from '@tollgate/shared/service'

export interface DemoConfig {
  readonly port: number
  readonly host: string
  readonly authUrl: string
  readonly apiUrl: string
  readonly clientId: string
  readonly logLevel: string
}

const trimSlash = (url: string) => url.replace(/\/+$/, '')

export function loadConfig(env: parse.Env = process.env): DemoConfig {
  return Object.freeze({
    port: parse.integer(env, 'PORT', 3002, 0, 65_535),
    host: parse.text(env, 'HOST') ?? '127.0.0.1',
    authUrl: trimSlash(parse.httpUrl(env, 'AUTH_URL', 'http://localhost:3000')),
    apiUrl: trimSlash(parse.httpUrl(env, 'API_URL', 'http://localhost:3001')),
    clientId: parse.text(env, 'CLIENT_ID') ?? 'demo-web',
    logLevel: parse.oneOf(env, 'LOG_LEVEL', parse.LOG_LEVELS, 'info'),
  })
}

export { ConfigError }
