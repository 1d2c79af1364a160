// Scale-out: two instances on one Redis behave as one; the refresh race on Redis Cluster; a rolling restart behind a
// round-robin proxy fails no request.
import { createServer, request as httpRequest } from 'node:http'
import t from 'tap'
import { ALICE, BFF, bootstrapDir, SERVICE, tokenRequest } from '../support/fixtures.js'
import { runLoad, sleep } from '../support/load.js'
import { freePort } from '../support/ports.js'
import { startRedis, startRedisCluster } from '../support/redis.js'
import { type Service, startAuthServer } from '../support/services.js'

const { file, keysDir } = await bootstrapDir('https://notes.example')
const ISSUER = 'http://tollgate.test'

const introspect = async (base: string, token: string) =>
  (
    await fetch(`${base}/oauth/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${BFF.id}:${BFF.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    })
  ).json() as Promise<{ active: boolean }>

const kidOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString()).kid as string

t.test('two instances on one Redis and one KEYS_DIR, requests alternating between them', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const env = {
    ISSUER,
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    BOOTSTRAP_FILE: file,
    KEYS_DIR: keysDir,
    REFRESH_REUSE_GRACE: '1',
  }
  const [a, b] = await Promise.all([startAuthServer({ env }), startAuthServer({ env })])
  t.teardown(() => Promise.all([a!.stop(), b!.stop()]))
  const at = (s: Service) => `${s.url}/oauth/token`

  t.same(
    await (await fetch(`${a!.url}/.well-known/jwks.json`)).json(),
    await (await fetch(`${b!.url}/.well-known/jwks.json`)).json(),
    'same JWKS',
  )
  const login = await tokenRequest(
    at(a!),
    { grant_type: 'password', username: ALICE.username, password: ALICE.password },
    BFF,
  )
  t.equal(login.status, 200, 'login on A')
  const r1 = await tokenRequest(
    at(b!),
    { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string },
    BFF,
  )
  t.equal(r1.status, 200, 'refresh on B')
  t.equal(
    kidOf(r1.body.access_token as string),
    kidOf(login.body.access_token as string),
    'both sign with the same key',
  )
  const r2 = await tokenRequest(
    at(a!),
    { grant_type: 'refresh_token', refresh_token: r1.body.refresh_token as string },
    BFF,
  )
  t.equal(r2.status, 200, 'refresh on A')
  await sleep(1_200)
  const reuse = await tokenRequest(
    at(b!),
    { grant_type: 'refresh_token', refresh_token: r1.body.refresh_token as string },
    BFF,
  )
  t.equal(reuse.body.error, 'invalid_grant', 'reuse detected on B')
  const dead = await tokenRequest(
    at(a!),
    { grant_type: 'refresh_token', refresh_token: r2.body.refresh_token as string },
    BFF,
  )
  t.equal(dead.body.error, 'invalid_grant', 'the family is revoked on A too')

  const cc = await tokenRequest(at(a!), { grant_type: 'client_credentials' }, SERVICE)
  t.equal((await introspect(b!.url, cc.body.access_token as string)).active, true, 'B introspects A’s token')
  const revoke = await fetch(`${a!.url}/oauth/revoke`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${SERVICE.id}:${SERVICE.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: cc.body.access_token as string }),
  })
  t.equal(revoke.status, 200, 'revoked on A')
  t.same(await introspect(b!.url, cc.body.access_token as string), { active: false }, 'inactive on B')
})

t.test('Redis Cluster: 50 concurrent refreshes with one token continue one lineage; reuse still revokes', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(() => cluster.stop())
  const auth = await startAuthServer({
    env: {
      ISSUER,
      REDIS_URL: undefined,
      REDIS_CLUSTER_NODES: cluster.nodes,
      REDIS_PREFIX: cluster.prefix,
      BOOTSTRAP_FILE: file,
      KEYS_DIR: keysDir,
      REFRESH_REUSE_GRACE: '2',
    },
  })
  t.teardown(() => auth.stop())
  const url = `${auth.url}/oauth/token`
  const login = await tokenRequest(
    url,
    { grant_type: 'password', username: ALICE.username, password: ALICE.password },
    BFF,
  )
  t.equal(login.status, 200)
  const token = login.body.refresh_token as string
  const answers = await Promise.all(
    Array.from({ length: 50 }, () => tokenRequest(url, { grant_type: 'refresh_token', refresh_token: token }, BFF)),
  )
  t.ok(answers.every((a) => a.status === 200 || a.status === 400))
  const successors = new Set(answers.filter((a) => a.status === 200).map((a) => a.body.refresh_token))
  t.equal(successors.size, 1, 'one successor')
  await sleep(2_200)
  const [successor] = [...successors] as string[]
  t.equal((await introspect(auth.url, successor!)).active, true)
  t.equal((await introspect(auth.url, token)).active, false)
  const reuse = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: token }, BFF)
  t.equal(reuse.body.error, 'invalid_grant')
  t.equal((await introspect(auth.url, successor!)).active, false, 'the family was revoked')
})

t.test('rolling restart of both instances behind a round-robin proxy fails no request', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  // SHUTDOWN_DELAY: after SIGTERM an instance fails /readyz but keeps serving for a second, then drains and exits.
  const env = {
    ISSUER,
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    BOOTSTRAP_FILE: file,
    KEYS_DIR: keysDir,
    SHUTDOWN_DELAY: '1',
  }
  const ports = [await freePort(), await freePort()]
  const instances = await Promise.all(ports.map((port) => startAuthServer({ port, env })))
  t.teardown(() => Promise.all(instances.map((i) => i.stop())))

  // A minimal load balancer, as Kubernetes or nginx would behave: round robin over the backends whose /readyz
  // answers 200 (polled every 100 ms), a new connection per request, and the next backend when a connection is
  // refused. Nothing is retried once a backend has accepted a request.
  const healthy = ports.map(() => true)
  const probe = setInterval(() => {
    ports.forEach((port, i) => {
      fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(500) }).then(
        (r) => {
          healthy[i] = r.status === 200
        },
        () => {
          healthy[i] = false
        },
      )
    })
  }, 100)
  t.teardown(() => clearInterval(probe))
  let next = 0
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const start = next++
      const order = ports.map((_, i) => (start + i) % ports.length)
      const candidates = [...order.filter((i) => healthy[i]), ...order.filter((i) => !healthy[i])]
      const attempt = (k: number) => {
        const port = ports[candidates[k] as number] as number
        const upstream = httpRequest(
          { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent: false },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers)
            up.pipe(res)
          },
        )
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ECONNREFUSED' && k + 1 < candidates.length) return attempt(k + 1)
          res.writeHead(502).end(JSON.stringify({ error: err.code }))
        })
        upstream.end(body)
      }
      attempt(0)
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => proxy.close())
  const base = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`

  const chains: string[] = []
  for (let i = 0; i < 3; i++) {
    chains.push(
      (
        await tokenRequest(
          `${base}/oauth/token`,
          { grant_type: 'password', username: ALICE.username, password: ALICE.password },
          BFF,
        )
      ).body.refresh_token as string,
    )
  }
  let restarts = 0
  const rolling = (async () => {
    for (const [i, port] of ports.entries()) {
      await sleep(1_500)
      await instances[i]!.stop('SIGTERM')
      instances[i] = await startAuthServer({ port, env })
      restarts++
    }
  })()
  const load = await runLoad(6, 9_000, async (worker) => {
    if (worker < 3) {
      const res = await tokenRequest(
        `${base}/oauth/token`,
        { grant_type: 'refresh_token', refresh_token: chains[worker] as string },
        BFF,
      )
      if (res.status === 200) chains[worker] = res.body.refresh_token as string
      return res.status === 200 ? '200' : `${res.status} ${JSON.stringify(res.body)}`
    }
    if (worker < 5) {
      const res = await tokenRequest(`${base}/oauth/token`, { grant_type: 'client_credentials' }, SERVICE)
      return res.status === 200 ? '200' : `${res.status} ${JSON.stringify(res.body)}`
    }
    return String((await fetch(`${base}/.well-known/jwks.json`)).status)
  })
  await rolling
  t.equal(restarts, 2, 'both instances were restarted')
  t.same(Object.fromEntries(load.statuses), { 200: load.total }, `${load.total} requests, all 200`)
})
