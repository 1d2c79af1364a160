// The bench's clients, user and bootstrap files, and the environment Tollgate's servers run with.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'

export const SERVICE = { id: 'bench-service', secret: randomBytes(32).toString('base64url') }
export const WEB = { id: 'bench-web', secret: randomBytes(32).toString('base64url') }
/** Token exchange: the bench user's tokens (for AUDIENCE) exchanged for ORDERS_AUDIENCE. */
export const EXCHANGER = { id: 'bench-exchanger', secret: randomBytes(32).toString('base64url') }
export const ORDERS_AUDIENCE = 'https://orders.bench.test'
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const USER = { username: 'bench-user', password: 'bench-password-123' }
export const AUDIENCE = 'https://api.bench.test'
/** Audiences whose access tokens are signed ES256 and EdDSA (the bootstrap file's `resources`). */
export const ES256_AUDIENCE = 'https://es256.bench.test'
export const EDDSA_AUDIENCE = 'https://eddsa.bench.test'
/** A service without a secret: private_key_jwt with an ES256 key, its public JWK registered inline. */
const keyedPair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
export const KEYED = {
  id: 'bench-keyed',
  kid: 'bench-keyed-1',
  privateKey: keyedPair.privateKey,
  jwk: { ...keyedPair.publicKey.export({ format: 'jwk' }), kid: 'bench-keyed-1', alg: 'ES256', use: 'sig' },
}
/** oidc-provider's client (servers/oidc-provider.mjs). */
export const OIDC = { id: 'bench', secret: 'bench-secret-0123456789abcdef0123456789abcdef' }
/** Request logging off (as the baselines), no per-IP token rate limit (every request comes from one IP here). */
export const QUIET = { LOG_LEVEL: 'warn', TOKEN_RATE_LIMIT: '0' }
/** The auth server keeps a key of each algorithm; RS256 stays the default (the existing scenarios are unchanged). */
export const SIGNING = { SIGNING_ALGS: 'RS256,ES256,EdDSA' }

export const form = (fields) => new URLSearchParams(fields).toString()
export const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
export const formHeaders = (client) => ({
  'content-type': 'application/x-www-form-urlencoded',
  authorization: basic(client.id, client.secret),
})

/** Writes the bootstrap files into a fresh directory: `bootstrap` (clients and the user) and `clientsOnly`. */
export async function writeFixtures() {
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-bench-'))
  const clients = [
    {
      client_id: SERVICE.id,
      client_secret: SERVICE.secret,
      grant_types: ['client_credentials'],
      scopes: ['notes:read'],
      audiences: [AUDIENCE, ES256_AUDIENCE, EDDSA_AUDIENCE],
    },
    {
      client_id: KEYED.id,
      jwks: { keys: [KEYED.jwk] },
      grant_types: ['client_credentials'],
      scopes: ['notes:read'],
      audiences: [AUDIENCE],
    },
    {
      client_id: WEB.id,
      client_secret: WEB.secret,
      grant_types: ['password', 'refresh_token'],
      scopes: ['notes:read'],
      audiences: [AUDIENCE],
    },
    {
      client_id: EXCHANGER.id,
      client_secret: EXCHANGER.secret,
      grant_types: [TOKEN_EXCHANGE],
      scopes: ['notes:read'],
      audiences: [ORDERS_AUDIENCE],
      token_exchange: { subject_audiences: [AUDIENCE], audiences: [ORDERS_AUDIENCE] },
    },
  ]
  const bootstrap = path.join(dir, 'bootstrap.json')
  const clientsOnly = path.join(dir, 'clients.json')
  const resources = [
    { audience: ES256_AUDIENCE, access_token_signing_alg: 'ES256' },
    { audience: EDDSA_AUDIENCE, access_token_signing_alg: 'EdDSA' },
  ]
  await writeFile(bootstrap, JSON.stringify({ clients, users: [USER], resources }))
  // The cold starts run with the defaults (SIGNING_ALGS unset): no resources there.
  await writeFile(clientsOnly, JSON.stringify({ clients }))
  return { dir, bootstrap, clientsOnly, keysDir: path.join(dir, 'keys') }
}
