// The gate with real processes: Debian's nginx and Caddy, configured exactly as docs/gate.md says, in front of a
// Python standard-library service (examples/polyglot/app.py), with the gate and a real auth server (and Redis, which
// two gates share for DPoP replay). What a client sends, what the service sees.
import { createPrivateKey, sign } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t, { type Test } from 'tap'
import { proofKey } from '../support/dpop.js'
import { startE2e } from '../support/e2e.js'
import { ALICE, BFF, GATEWAY_AUD, READER, SERVICE, tokenRequest } from '../support/fixtures.js'
import { freePort } from '../support/ports.js'
import { stopWith } from '../support/processes.js'
import {
  documentedConfig,
  type ProxyProcess,
  startCaddy,
  startNginx,
  startUpstream,
  withPorts,
} from '../support/proxies.js'
import type { TestRedis } from '../support/redis.js'
import { startGate } from '../support/services.js'

const AUDIENCE = 'https://orders.example'
const stack = await startE2e(t, { audience: AUDIENCE })
const redis = stack.redis as TestRedis
const policyFile = path.join(path.dirname(stack.file), 'policy.json')
await writeFile(
  policyFile,
  JSON.stringify({
    rules: [
      { path: '/health', public: true },
      { path: '/orders', scopes: ['notes:read'] },
      { path: '/orders', methods: ['POST', 'PUT'], scopes: ['notes:write'] },
      { path: '/bound', dpop: 'required' },
    ],
  }),
)
const gateEnv = {
  ISSUER: stack.issuer,
  AUDIENCE,
  GATE_POLICY: policyFile,
  REDIS_URL: redis.url,
  REDIS_PREFIX: `${redis.prefix}gate:`,
}
const gate = await startGate({ env: gateEnv })
stopWith(t, { gate })
const app = await startUpstream(t)
const ports = { gate: gate.port, app: app.port, nginx: await freePort(), caddy: await freePort() }
const nginx = await startNginx(t, withPorts(await documentedConfig('nginx'), ports), ports.nginx)
const caddy = await startCaddy(t, withPorts(await documentedConfig('caddy'), ports), ports.caddy)
const proxies: [string, ProxyProcess][] = [
  ['nginx', nginx],
  ['caddy', caddy],
]

/** Every status a client got through a proxy in this file. */
const statuses = new Set<number>()
const call = async (url: string, init: RequestInit = {}) => {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
  statuses.add(res.status)
  return res
}
const serviceToken = async (client = SERVICE) => {
  const res = await tokenRequest(stack.tokenUrl, { grant_type: 'client_credentials' }, client)
  if (res.status !== 200) throw new Error(`token: ${JSON.stringify(res.body)}`)
  return res.body.access_token as string
}
const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>

/** A token signed with the auth server's own key (from KEYS_DIR), with any claims: for an expired one. */
async function signedByTheIssuer(claims: Record<string, unknown>): Promise<string> {
  const file = (await readdir(stack.keysDir)).find((f) => f.endsWith('.json'))
  const jwk = JSON.parse(await readFile(path.join(stack.keysDir, file as string), 'utf8'))
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${enc({ alg: 'RS256', typ: 'at+jwt', kid: jwk.kid })}.${enc(claims)}`
  const key = createPrivateKey({ key: jwk, format: 'jwk' })
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`
}

/** A request through a proxy must not reach the service: its log does not grow. */
async function refusedBeforeTheService(t: Test, proxy: ProxyProcess, init: RequestInit, status: number, what: string) {
  const before = app.seen().length
  const res = await call(`${proxy.url}/orders`, init)
  t.equal(res.status, status, what)
  await res.arrayBuffer()
  t.equal(app.seen().length, before, `${what}: the service saw nothing`)
  return res
}

t.test('a valid token: the service sees who calls, and nothing else of the token', async (t) => {
  const token = await serviceToken()
  for (const [name, proxy] of proxies) {
    const res = await call(`${proxy.url}/orders?mine=1`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(res.status, 200, name)
    const body = (await res.json()) as { seen: Record<string, string | null> }
    t.equal(body.seen['X-Auth-Subject'], SERVICE.id, `${name}: X-Auth-Subject`)
    t.equal(body.seen['X-Auth-Client-Id'], SERVICE.id)
    t.equal(body.seen['X-Auth-Scope'], 'notes:read notes:write')
    t.match(app.seen().at(-1), { method: 'GET', path: '/orders?mine=1' }, `${name}: the service got the request`)
  }
  const user = await tokenRequest(
    stack.tokenUrl,
    { grant_type: 'password', username: ALICE.username, password: ALICE.password },
    BFF,
  )
  const res = await call(`${nginx.url}/orders`, { headers: { authorization: `Bearer ${user.body.access_token}` } })
  const seen = ((await res.json()) as { seen: Record<string, string> }).seen
  t.equal(seen['X-Auth-Session'], claimsOf(user.body.access_token as string).sid, "a user's session id")
})

t.test('no, forged, expired or wrong-audience token: 401, and the service sees nothing', async (t) => {
  const good = await serviceToken()
  const [header, payload] = good.split('.') as [string, string]
  const claims = claimsOf(good)
  const now = Math.floor(Date.now() / 1000)
  const expired = await signedByTheIssuer({ ...claims, iat: now - 900, exp: now - 600, jti: 'expired-1' })
  const wrongAudience = (
    await tokenRequest(
      stack.tokenUrl,
      { grant_type: 'password', username: ALICE.username, password: ALICE.password, resource: GATEWAY_AUD },
      BFF,
    )
  ).body.access_token as string
  const cases: [string, Record<string, string>, RegExp][] = [
    ['no token', {}, /^Bearer realm="https:\/\/orders.example"/],
    ['forged', { authorization: `Bearer ${header}.${payload}.${'A'.repeat(342)}` }, /error="invalid_token"/],
    ['expired', { authorization: `Bearer ${expired}` }, /token has expired/],
    ['wrong audience', { authorization: `Bearer ${wrongAudience}` }, /aud\\?" claim check failed/],
  ]
  for (const [name, proxy] of proxies) {
    for (const [what, headers, challenge] of cases) {
      const res = await refusedBeforeTheService(t, proxy, { headers }, 401, `${name}: ${what}`)
      t.match(res.headers.get('www-authenticate'), challenge, `${name}: ${what}: the challenge`)
    }
  }
})

t.test('a client-sent X-Auth-Subject never reaches the service, on a protected or a public path', async (t) => {
  const token = await serviceToken()
  const spoof = {
    'x-auth-subject': 'admin',
    'x-auth-scope': 'everything',
    'x-auth-actor': 'root',
    'x-auth-session': 's-evil',
    'x-auth-client-id': 'evil',
  }
  for (const [name, proxy] of proxies) {
    const res = await call(`${proxy.url}/orders`, { headers: { ...spoof, authorization: `Bearer ${token}` } })
    const seen = ((await res.json()) as { seen: Record<string, string | null> }).seen
    t.equal(seen['X-Auth-Subject'], SERVICE.id, `${name}: the token's subject`)
    t.equal(seen['X-Auth-Scope'], 'notes:read notes:write')
    t.ok(!seen['X-Auth-Actor'] && !seen['X-Auth-Session'], `${name}: no actor, no session, not the client's`)
    const open = await call(`${proxy.url}/health`, { headers: spoof })
    t.equal(open.status, 200, `${name}: /health is public`)
    const openSeen = ((await open.json()) as { seen: Record<string, string | null> }).seen
    for (const [header, value] of Object.entries(openSeen)) {
      t.ok(value === null || value === '', `${name}: public path: ${header} is ${JSON.stringify(value)}`)
    }
  }
})

t.test('a missing scope: 403 insufficient_scope, the service sees nothing', async (t) => {
  const reader = await serviceToken(READER)
  for (const [name, proxy] of proxies) {
    const res = await refusedBeforeTheService(t, proxy, { headers: { authorization: `Bearer ${reader}` } }, 403, name)
    t.match(res.headers.get('www-authenticate'), /error="insufficient_scope".*scope="notes:read"/, `${name}: challenge`)
  }
  const writer = await serviceToken()
  const put = await call(`${nginx.url}/orders/1`, { method: 'PUT', headers: { authorization: `Bearer ${writer}` } })
  t.equal(put.status, 200, 'a token with notes:write may PUT')
})

t.test('DPoP through the proxy: a proof for the public URL passes once; any other is refused', async (t) => {
  const client = proofKey()
  const tokenRes = await fetch(stack.tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${SERVICE.id}:${SERVICE.secret}`).toString('base64')}`,
      dpop: client.proof('POST', stack.tokenUrl),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })
  const body = (await tokenRes.json()) as { access_token: string; token_type: string }
  t.equal(body.token_type, 'DPoP')
  const bound = body.access_token
  for (const [name, proxy] of proxies) {
    const url = `${proxy.url}/bound/42`
    const send = (proof: string, method = 'GET', target = `${url}?q=1`) =>
      call(target, { method, headers: { authorization: `DPoP ${bound}`, dpop: proof } })
    const proof = client.proof('GET', url, { accessToken: bound })
    const ok = await send(proof)
    t.equal(ok.status, 200, `${name}: a proof for ${url}`)
    t.equal(((await ok.json()) as { seen: Record<string, string> }).seen['X-Auth-Subject'], SERVICE.id)
    const before = app.seen().length
    const replay = await send(proof)
    t.equal(replay.status, 401, `${name}: the same proof again`)
    t.match(replay.headers.get('www-authenticate'), /^DPoP .*invalid_dpop_proof.*already used/)
    const otherUrl = await send(client.proof('GET', `${proxy.url}/bound/43`, { accessToken: bound }))
    t.equal(otherUrl.status, 401, `${name}: a proof for another URL (htu)`)
    const otherHost = await send(client.proof('GET', `http://localhost:${proxy.port}/bound/42`, { accessToken: bound }))
    t.equal(otherHost.status, 401, `${name}: a proof for another host (htu)`)
    const otherMethod = await send(client.proof('POST', url, { accessToken: bound }))
    t.equal(otherMethod.status, 401, `${name}: a proof for another method (htm)`)
    const asBearer = await call(url, { headers: { authorization: `Bearer ${bound}` } })
    t.equal(asBearer.status, 401, `${name}: the bound token as Bearer`)
    t.match(asBearer.headers.get('www-authenticate'), /^DPoP /, `${name}: the DPoP challenge comes first`)
    await Promise.all([replay, otherUrl, otherHost, otherMethod, asBearer].map((r) => r.arrayBuffer()))
    t.equal(app.seen().length, before, `${name}: the service saw none of them`)
  }

  // A proof is accepted once across gates: a second gate sharing Redis refuses what the first accepted.
  const second = await startGate({ env: gateEnv })
  stopWith(t, { 'second gate': second })
  const url = `${nginx.url}/bound/7`
  const proof = client.proof('GET', url, { accessToken: bound })
  t.equal((await call(url, { headers: { authorization: `DPoP ${bound}`, dpop: proof } })).status, 200)
  const elsewhere = await fetch(`${second.url}/verify`, {
    headers: {
      authorization: `DPoP ${bound}`,
      dpop: proof,
      'x-original-method': 'GET',
      'x-original-url': url,
    },
  })
  t.equal(elsewhere.status, 401, 'the other gate refuses the replayed proof')
  t.match(elsewhere.headers.get('www-authenticate'), /already used/)
})

t.test('a revoked session is refused through the proxy within 1 s, with no call to the auth server', async (t) => {
  const requestsAtTheIssuer = async () => {
    const text = await (await fetch(`${stack.issuer}/metrics`)).text()
    let total = 0
    for (const line of text.split('\n')) {
      if (!line.startsWith('tollgate_http_request_duration_seconds_count')) continue
      if (line.includes('route="/metrics"') || line.includes('revocation-events')) continue
      total += Number(line.split(' ').at(-1))
    }
    return total
  }
  const login = await tokenRequest(
    stack.tokenUrl,
    { grant_type: 'password', username: ALICE.username, password: ALICE.password },
    BFF,
  )
  const access = login.body.access_token as string
  const headers = { authorization: `Bearer ${access}` }
  const before = await requestsAtTheIssuer()
  for (let i = 0; i < 20; i++) t.equal((await call(`${nginx.url}/orders`, { headers })).status, 200)
  t.equal(await requestsAtTheIssuer(), before, '20 requests through nginx, none of them reached the auth server')

  const revoke = await fetch(`${stack.issuer}/oauth/revoke`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${BFF.id}:${BFF.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: login.body.refresh_token as string }),
  })
  t.equal(revoke.status, 200)
  const since = Date.now()
  let status = 200
  while (status === 200 && Date.now() - since < 5_000) {
    status = (await call(`${nginx.url}/orders`, { headers })).status
  }
  const ms = Date.now() - since
  t.equal(status, 401, 'refused')
  t.ok(ms <= 1_000, `refused ${ms} ms after the revocation answered`)
  t.equal((await call(`${caddy.url}/orders`, { headers })).status, 401, 'through Caddy too')
})

t.test('the auth server stopped: tokens keep working for their life, bad ones stay refused', async (t) => {
  const token = await serviceToken()
  const reader = await serviceToken(READER)
  await stack.auth.stop()
  for (const [name, proxy] of proxies) {
    t.equal((await call(`${proxy.url}/orders`, { headers: { authorization: `Bearer ${token}` } })).status, 200, name)
    t.equal((await call(`${proxy.url}/orders`, { headers: { authorization: `Bearer ${reader}` } })).status, 403)
    t.equal((await call(`${proxy.url}/orders`)).status, 401)
  }
  const ready = (await (await fetch(`${gate.url}/readyz`)).json()) as { keys: string }
  t.equal(ready.keys, 'ok', 'the gate keeps its keys')
})

t.test('every answer a client got through the proxies was the service’s, a 401 or a 403', async (t) => {
  t.same(
    [...statuses].filter((s) => ![200, 401, 403].includes(s)),
    [],
    `statuses seen: ${[...statuses].sort().join(', ')}`,
  )
  t.notMatch(nginx.output(), /\[error\].*auth request unexpected status/, 'nginx never saw another status')
})
