// One way to start what an end-to-end test needs: a redis-server, the auth server on the fixtures' bootstrap file,
// and (optionally) the resource API, each a real process on a free port, stopped by the test's teardown.
import type { Test } from 'tap'
import { bootstrapDir } from './fixtures.js'
import { freePort } from './ports.js'
import { stopWith } from './processes.js'
import { type RedisOptions, startRedis, type TestRedis } from './redis.js'
import { type Service, startAuthServer, startResourceApi } from './services.js'

export interface E2eOptions {
  /** Redis for the auth server: `false` for the in-memory store; options for a private server. Default: a Redis. */
  readonly redis?: false | RedisOptions
  /** Start the resource API too (with these variables). Default: no API. */
  readonly api?: boolean | { readonly env?: Record<string, string> }
  /** Called with the API once it answers, before the auth server starts (the API must wait for its issuer). */
  readonly beforeAuth?: (api: Service) => Promise<void>
  /** The audience of the bootstrap clients. Default: the API's URL (`http://127.0.0.1:<port>`). */
  readonly audience?: string
  /** More auth-server variables (they win over the defaults). */
  readonly env?: Record<string, string | undefined>
}

export interface E2eStack {
  readonly issuer: string
  readonly tokenUrl: string
  readonly audience: string
  readonly auth: Service
  readonly api: Service | undefined
  readonly redis: TestRedis | undefined
  /** The bootstrap file and key directory the auth server uses. */
  readonly file: string
  readonly keysDir: string
  /** The auth server's variables, to start it again the same way. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Starts the auth server again (after a kill) on the same port with the same variables. */
  restartAuth(): Promise<Service>
}

/**
 * @example
 * const { issuer, tokenUrl, api } = await startE2e(t, { api: true, env: { REFRESH_REUSE_GRACE: '2' } })
 */
export async function startE2e(t: Test, options: E2eOptions = {}): Promise<E2eStack> {
  const redis = options.redis === false ? undefined : await startRedis(options.redis ?? {})
  if (redis) t.teardown(() => redis.stop())
  const apiPort = await freePort()
  const audience = options.audience ?? `http://127.0.0.1:${apiPort}`
  const { file, keysDir } = await bootstrapDir(audience)
  const authPort = await freePort()
  const issuer = `http://127.0.0.1:${authPort}`
  let api: Service | undefined
  if (options.api) {
    const extra = typeof options.api === 'object' ? options.api.env : {}
    api = await startResourceApi({
      port: apiPort,
      env: { ISSUER: issuer, AUDIENCE: audience, ...extra },
      readyPath: '/healthz',
    })
    stopWith(t, { 'the resource API': api })
    await options.beforeAuth?.(api)
  }
  const env = {
    ISSUER: issuer,
    BOOTSTRAP_FILE: file,
    KEYS_DIR: keysDir,
    REDIS_URL: redis?.url,
    REDIS_PREFIX: redis?.prefix,
    ...options.env,
  }
  let auth = await startAuthServer({ port: authPort, env })
  // The current auth server (restartAuth replaces it), stopped and, when the test failed, its output shown.
  stopWith(t, { 'the auth server': { output: () => auth.output(), stop: () => auth.stop() } })
  if (api) {
    // Ready once it has the issuer's keys.
    for (let i = 0; i < 400 && (await fetch(`${api.url}/readyz`)).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    issuer,
    tokenUrl: `${issuer}/oauth/token`,
    audience,
    get auth() {
      return auth
    },
    api,
    redis,
    file,
    keysDir,
    env,
    async restartAuth() {
      auth = await startAuthServer({ port: authPort, env })
      return auth
    },
  }
}
