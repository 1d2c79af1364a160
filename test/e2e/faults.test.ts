// Faults with real processes: the auth server killed, the JWKS endpoint failing, Redis killed mid-load.
import { createServer, type Server } from 'node:http'
import t from 'tap'
import { ALICE, BFF, bootstrapDir, SERVICE, tokenRequest } from '../support/fixtures.js'
import { runLoad, sleep } from '../support/load.js'
import { freePort } from '../support/ports.js'
import { startRedis } from '../support/redis.js'
import { startAuthServer, startResourceApi } from '../support/services.js'

const apiPort = await freePort()
const audience = `http://127.0.0.1:${apiPort}`
const { file, keysDir } = await bootstrapDir(audience)

t.test('auth server SIGKILLed: the API keeps verifying; restarted, earlier refresh tokens still work', async (t) => {
  const redis = await startRedis({ appendonly: true })
  t.teardown(() => redis.stop())
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const env = { ISSUER: issuer, REDIS_URL: redis.url, REDIS_PREFIX: 'tg:', BOOTSTRAP_FILE: file, KEYS_DIR: keysDir }
  let auth = await startAuthServer({ port, env })
  const api = await startResourceApi({ port: apiPort, env: { ISSUER: issuer, AUDIENCE: audience } })
  t.teardown(() => api.stop())
  const access = (await tokenRequest(`${issuer}/oauth/token`, { grant_type: 'client_credentials' }, SERVICE)).body
    .access_token as string
  const login = await tokenRequest(
    `${issuer}/oauth/token`,
    { grant_type: 'password', username: ALICE.username, password: ALICE.password },
    BFF,
  )
  t.equal((await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${access}` } })).status, 200)

  await auth.stop('SIGKILL')
  let ok = 0
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${access}` } })
    if (res.status === 200) ok++
  }
  t.equal(ok, 100, '100 of 100 requests with a valid token answered 200 while the auth server is dead')
  t.equal((await fetch(`${api.url}/readyz`)).status, 200, 'the API stays ready on cached keys')

  auth = await startAuthServer({ port, env })
  t.teardown(() => auth.stop())
  const refreshed = await tokenRequest(
    `${issuer}/oauth/token`,
    { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string },
    BFF,
  )
  t.equal(refreshed.status, 200, 'a refresh token from before the kill works after the restart')
  const res = await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${refreshed.body.access_token}` } })
  t.equal(res.status, 200, 'and its access token verifies (same keys)')
})

t.test('JWKS endpoint answering 500, garbage, or hanging: valid tokens keep being accepted', async (t) => {
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const auth = await startAuthServer({
    port,
    env: { ISSUER: issuer, BOOTSTRAP_FILE: file, KEYS_DIR: keysDir, REDIS_URL: undefined },
  })
  t.teardown(() => auth.stop())
  let mode: 'ok' | 'error' | 'garbage' | 'hang' = 'ok'
  let fetches = 0
  const hanging: import('node:http').ServerResponse[] = []
  const jwks: Server = createServer(async (_req, res) => {
    fetches++
    if (mode === 'error') return res.writeHead(500).end('internal error')
    if (mode === 'garbage')
      return res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [{"kty": "RSA", "n": 1')
    if (mode === 'hang') return void hanging.push(res)
    const upstream = await fetch(`${issuer}/.well-known/jwks.json`)
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(await upstream.text())
  })
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const res of hanging) res.destroy()
    jwks.closeAllConnections()
    jwks.close()
  })
  const jwksUri = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks`
  const api = await startResourceApi({
    env: {
      ISSUER: issuer,
      AUDIENCE: audience,
      JWKS_URI: jwksUri,
      JWKS_CACHE_MAX_AGE: '1',
      JWKS_COOLDOWN: '1',
      JWKS_TIMEOUT: '1',
    },
  })
  t.teardown(() => api.stop())
  const token = (await tokenRequest(`${issuer}/oauth/token`, { grant_type: 'client_credentials' }, SERVICE)).body
    .access_token as string
  const call = () => fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${token}` } })
  t.equal((await call()).status, 200, 'keys loaded while the endpoint works')

  for (const failure of ['error', 'garbage', 'hang'] as const) {
    mode = failure
    const before = fetches
    const statuses: number[] = []
    const started = Date.now()
    let slowest = 0
    while (Date.now() - started < 3_500) {
      const t0 = Date.now()
      statuses.push((await call()).status)
      slowest = Math.max(slowest, Date.now() - t0)
      await sleep(50)
    }
    t.ok(fetches > before, `${failure}: the verifier did try to refresh (${fetches - before} fetches)`)
    t.ok(
      statuses.every((s) => s === 200),
      `${failure}: ${statuses.length} requests, all 200`,
    )
    t.ok(slowest < 500, `${failure}: no request waited on the failing fetch (slowest ${slowest} ms)`)
  }
  mode = 'ok'
  const metrics = await (await fetch(`${api.url}/metrics`)).text()
  t.match(metrics, /tollgate_jwks_fetch_failures_total [1-9]/)
  t.match(metrics, /tollgate_jwks_fetches_total\{outcome="ok"\} [1-9]/)
})

t.test(
  'Redis SIGKILLed mid-load: only 200 or 503, recovery within 5 s, every earlier session still refreshes (AOF)',
  async (t) => {
    const redis = await startRedis({ appendonly: true })
    t.teardown(() => redis.stop())
    const port = await freePort()
    const issuer = `http://127.0.0.1:${port}`
    const auth = await startAuthServer({
      port,
      env: { ISSUER: issuer, REDIS_URL: redis.url, REDIS_PREFIX: 'tg:', BOOTSTRAP_FILE: file, KEYS_DIR: keysDir },
    })
    t.teardown(() => auth.stop())
    const url = `${issuer}/oauth/token`
    const sessions: string[] = []
    for (let i = 0; i < 20; i++) {
      const res = await tokenRequest(
        url,
        { grant_type: 'password', username: ALICE.username, password: ALICE.password },
        BFF,
      )
      sessions.push(res.body.refresh_token as string)
    }
    // Workers 0-3 walk refresh chains of their own sessions; 4-5 issue service tokens; 6 logs in.
    const chains = sessions.slice(0, 4)
    let restartedAt = 0
    const faults = (async () => {
      await sleep(2_000)
      await redis.kill()
      await sleep(2_000)
      await redis.restart()
      restartedAt = Date.now()
    })()
    const load = await runLoad(7, 9_000, async (worker) => {
      let res: Awaited<ReturnType<typeof tokenRequest>>
      if (worker < 4) {
        res = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: chains[worker] as string }, BFF)
        if (res.status === 200) chains[worker] = res.body.refresh_token as string
      } else if (worker < 6) {
        res = await tokenRequest(url, { grant_type: 'client_credentials' }, SERVICE)
      } else {
        res = await tokenRequest(
          url,
          { grant_type: 'password', username: ALICE.username, password: ALICE.password },
          BFF,
        )
      }
      if (res.status === 503) {
        await sleep(50)
        return res.body.error === 'temporarily_unavailable' ? '503' : `503 ${JSON.stringify(res.body)}`
      }
      return String(res.status)
    })
    await faults
    const seen = Object.fromEntries(load.statuses)
    t.same(Object.keys(seen).sort(), ['200', '503'], `statuses ${JSON.stringify(seen)}`)
    t.equal(auth.process.exitCode, null, 'the auth server did not crash')
    const firstOk = load.samples.find((s) => s.at > restartedAt && s.status === '200')
    t.ok(firstOk, 'requests succeed again')
    const recovery = (firstOk?.at ?? Number.POSITIVE_INFINITY) - restartedAt
    t.ok(recovery < 5_000, `recovered ${recovery} ms after Redis returned, without restarting the auth server`)
    const after = load.samples.filter((s) => s.at > (firstOk?.at ?? 0) + 1_000)
    t.ok(after.length > 20, `${after.length} requests after recovery`)
    t.ok(
      after.every((s) => s.status === '200'),
      'and it stays recovered',
    )

    let refreshed = 0
    for (const [i, token] of [...chains, ...sessions.slice(4)].entries()) {
      const res = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: token }, BFF)
      if (res.status === 200) refreshed++
      else t.fail(`session ${i}: ${res.status} ${JSON.stringify(res.body)}`)
    }
    t.equal(refreshed, 20, 'all 20 sessions created before the kill still refresh')
  },
)
