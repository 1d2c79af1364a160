// Test helpers: an auth server app on the in-memory store with known clients and users.
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { buildApp } from '../src/app.js'
import { applyBootstrap, type BootstrapDocument } from '../src/bootstrap.js'
import { SecretHasher } from '../src/clients/secrets.js'
import { loadConfig } from '../src/config.js'
import type { AuthHooks } from '../src/events.js'
import { Keystore, type KeystoreOptions } from '../src/keys/keystore.js'
import { loggerOptions } from '../src/logger.js'
import { MemoryStore } from '../src/store/memory/memory-store.js'
import type { Store } from '../src/store/types.js'

export const ISSUER = 'https://auth.test'
export const API = 'https://api.test'
export const SERVICE_SECRET = 'service-secret-0123456789abcdef0123456789'
export const USER_PASSWORD = 'correct horse battery staple'

export const bootstrapDoc: BootstrapDocument = {
  clients: [
    {
      client_id: 'service',
      client_secret: SERVICE_SECRET,
      grant_types: ['client_credentials'],
      scopes: ['notes:read', 'notes:write'],
      audiences: [API, 'https://other.test'],
    },
    {
      client_id: 'web',
      public: true,
      grant_types: ['password', 'refresh_token'],
      scopes: ['openid', 'profile', 'email', 'notes:read'],
      audiences: [API],
      allowed_origins: ['https://app.test'],
    },
    {
      client_id: 'spa',
      public: true,
      name: 'Notes SPA',
      grant_types: ['authorization_code', 'refresh_token', 'password'],
      scopes: ['openid', 'profile', 'email', 'notes:read'],
      audiences: [API],
      redirect_uris: ['https://app.test/callback', 'https://app.test/other'],
      post_logout_redirect_uris: ['https://app.test/signed-out'],
      allowed_origins: ['https://app.test'],
    },
    {
      client_id: 'confidential-web',
      client_secret: `${SERVICE_SECRET}-web`,
      grant_types: ['password', 'refresh_token'],
      scopes: ['openid', 'notes:read'],
      audiences: [API],
    },
  ],
  users: [
    {
      username: 'alice',
      password: USER_PASSWORD,
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice',
      roles: ['admin'],
    },
    { username: 'bob', password: USER_PASSWORD, disabled: true },
  ],
}

export interface TestServer {
  app: Awaited<ReturnType<typeof buildApp>>
  store: Store
  keystore: Keystore
  clock: { now: number }
}

export interface TestServerOptions {
  store?: Store
  doc?: BootstrapDocument
  hooks?: AuthHooks
  /** Collects every log line (as parsed JSON) when given. */
  logs?: Record<string, unknown>[]
  /** Keystore settings (the algorithms are SIGNING_ALGS from `env`). */
  keystore?: Pick<KeystoreOptions, 'publishDelayMs' | 'retireAfterMs'>
}

export async function testServer(
  env: Record<string, string> = {},
  options: TestServerOptions = {},
): Promise<TestServer> {
  const clock = { now: Date.now() }
  const now = () => clock.now
  const config = loadConfig({ ISSUER, ...env })
  const store = options.store ?? new MemoryStore({ now })
  const keystore = await Keystore.open({ dir: undefined, now, algorithms: config.signingAlgs, ...options.keystore })
  const secretKey = randomBytes(32)
  const { resources, trustedIssuers } = await applyBootstrap(
    options.doc ?? bootstrapDoc,
    store,
    new SecretHasher(secretKey),
    now(),
    config,
  )
  const logs = options.logs
  const logger = logs
    ? pino(loggerOptions('info') as object, {
        write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>),
      })
    : false
  const app = await buildApp({
    config,
    store,
    keystore,
    secretKey,
    resources,
    trustedIssuers,
    now,
    logger,
    ...(options.hooks ? { hooks: options.hooks } : {}),
  })
  return { app, store, keystore, clock }
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

export function form(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) for (const value of [v].flat()) params.append(k, value)
  return params.toString()
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(h as string, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p as string, 'base64url').toString()),
  }
}
