// The whole product as real processes: a private redis-server, the auth server, the resource API and the demo web app.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from './ports.js'
import { startRedis, type TestRedis } from './redis.js'
import { ROOT, type Service, spawnService, startAuthServer, startResourceApi } from './services.js'

export const DEMO_USER = { username: 'alice', password: 'alice-password-123', name: 'Alice' }

export interface Stack {
  readonly authUrl: string
  readonly apiUrl: string
  readonly webUrl: string
  readonly redis: TestRedis
  readonly auth: Service
  readonly api: Service
  readonly web: Service
  stop(): Promise<void>
}

/** Everything on `localhost` (one cookie host), each on its own free port. */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const [authPort, apiPort, webPort] = [await freePort(), await freePort(), await freePort()]
  const authUrl = `http://localhost:${authPort}`
  const apiUrl = `http://localhost:${apiPort}`
  const webUrl = `http://localhost:${webPort}`
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-stack-'))
  const bootstrap = path.join(dir, 'bootstrap.json')
  await writeFile(
    bootstrap,
    JSON.stringify({
      clients: [
        {
          client_id: 'demo-web',
          public: true,
          name: 'Notes demo',
          grant_types: ['password', 'refresh_token', 'authorization_code'],
          scopes: ['openid', 'profile', 'email', 'notes:read', 'notes:write'],
          audiences: [apiUrl],
          redirect_uris: [`${webUrl}/callback`],
          post_logout_redirect_uris: [`${webUrl}/`],
          allowed_origins: [webUrl],
        },
      ],
      users: [{ ...DEMO_USER, email: 'alice@example.com', roles: ['user'] }],
    }),
  )
  const redis = await startRedis()
  const auth = await startAuthServer({
    port: authPort,
    env: {
      ISSUER: authUrl,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      BOOTSTRAP_FILE: bootstrap,
      KEYS_DIR: path.join(dir, 'keys'),
      ...env,
    },
  })
  const api = await startResourceApi({
    port: apiPort,
    env: { ISSUER: authUrl, AUDIENCE: apiUrl, CORS_ORIGINS: webUrl },
  })
  const web = await spawnService(`${ROOT}packages/demo-web/dist/server.js`, {
    port: webPort,
    env: { AUTH_URL: authUrl, API_URL: apiUrl, CLIENT_ID: 'demo-web' },
  })
  return {
    authUrl,
    apiUrl,
    webUrl,
    redis,
    auth,
    api,
    web,
    async stop() {
      await Promise.all([web.stop(), api.stop(), auth.stop()])
      await redis.stop()
    },
  }
}
