// A bootstrap file for end-to-end tests: a service client, a first-party web client and a user.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'

export const SERVICE = { id: 'orders-svc', secret: 'orders-secret-0123456789abcdef0123456789abcdef' }
export const READER = { id: 'reader-svc', secret: 'reader-secret-0123456789abcdef0123456789abcdef' }
export const WEB = { id: 'web-app' }
export const SPA = { id: 'spa', redirectUri: 'https://spa.example/callback' }
export const BFF = { id: 'web-bff', secret: 'bff-secret-0123456789abcdef0123456789abcdef0123' }
/** Token exchange: the gateway calls orders as the user, orders calls the API (the fixtures' audience) as the user. */
export const GATEWAY_AUD = 'https://gateway.internal'
export const ORDERS_AUD = 'https://orders.internal'
export const GATEWAY = { id: 'gateway-svc', secret: 'gateway-secret-0123456789abcdef0123456789abcdef' }
export const ORDERS = { id: 'orders-api', secret: 'orders-api-secret-0123456789abcdef0123456789abcdef' }
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const ALICE = { username: 'alice', password: 'alice-password-123' }
export const BOB = { username: 'bob', password: 'bob-password-4567' }

/** Writes a bootstrap file for an API audience and returns a fresh directory holding it and the keys. */
export async function bootstrapDir(audience: string): Promise<{ dir: string; file: string; keysDir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-e2e-'))
  const file = path.join(dir, 'bootstrap.json')
  await writeFile(
    file,
    JSON.stringify({
      clients: [
        {
          client_id: SERVICE.id,
          client_secret: SERVICE.secret,
          grant_types: ['client_credentials'],
          scopes: ['notes:read', 'notes:write'],
          audiences: [audience],
        },
        {
          client_id: READER.id,
          client_secret: READER.secret,
          grant_types: ['client_credentials'],
          scopes: ['profile'],
          audiences: [audience],
        },
        {
          client_id: WEB.id,
          public: true,
          grant_types: ['password', 'refresh_token'],
          scopes: ['openid', 'profile', 'email', 'notes:read', 'notes:write'],
          audiences: [audience],
          allowed_origins: ['http://localhost:5173'],
        },
        {
          client_id: SPA.id,
          public: true,
          name: 'Example SPA',
          grant_types: ['authorization_code', 'refresh_token'],
          scopes: ['openid', 'profile', 'email', 'notes:read'],
          audiences: [audience],
          redirect_uris: [SPA.redirectUri],
          allowed_origins: ['https://spa.example'],
        },
        {
          client_id: BFF.id,
          client_secret: BFF.secret,
          grant_types: ['password', 'refresh_token'],
          scopes: ['openid', 'profile', 'email', 'notes:read', 'notes:write'],
          audiences: [audience, GATEWAY_AUD],
        },
        {
          client_id: GATEWAY.id,
          client_secret: GATEWAY.secret,
          grant_types: ['client_credentials', TOKEN_EXCHANGE],
          scopes: ['notes:read', 'notes:write'],
          audiences: [GATEWAY_AUD],
          token_exchange: { subject_audiences: [GATEWAY_AUD], audiences: [ORDERS_AUD] },
        },
        {
          client_id: ORDERS.id,
          client_secret: ORDERS.secret,
          grant_types: ['client_credentials', TOKEN_EXCHANGE],
          scopes: ['notes:read'],
          audiences: [ORDERS_AUD],
          token_exchange: { subject_audiences: [ORDERS_AUD], audiences: [audience] },
        },
      ],
      users: [
        { ...ALICE, email: 'alice@example.com', name: 'Alice', roles: ['admin'] },
        { ...BOB, email: 'bob@example.com', name: 'Bob' },
      ],
    }),
  )
  return { dir, file, keysDir: path.join(dir, 'keys') }
}

/** POSTs a form to a token endpoint and returns status and JSON. */
export async function tokenRequest(
  tokenUrl: string,
  fields: Record<string, string>,
  auth?: { id: string; secret: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}`
  const res = await fetch(tokenUrl, { method: 'POST', headers, body: new URLSearchParams(fields) })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}
