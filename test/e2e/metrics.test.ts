// /metrics on both services, scraped as Prometheus would: the counters an operator alerts on exist and move.
import { generateKeyPair, SignJWT } from 'jose'
import t from 'tap'

import { startE2e } from '../support/e2e.js'
import { ALICE, SERVICE, tokenRequest, WEB } from '../support/fixtures.js'
import { freePort } from '../support/ports.js'
import { stopWith } from '../support/processes.js'
import type { TestRedis } from '../support/redis.js'
import { type Service, startAuthServer, startResourceApi } from '../support/services.js'

const stack = await startE2e(t, {
  api: { env: { JWKS_COOLDOWN: '0' } },
  env: { REFRESH_REUSE_GRACE: '0', LOGIN_DELAY_AFTER: '100', LOGIN_MAX_FAILURES: '3', METRICS_CLIENT_LABELS: 'on' },
})
const { auth, audience } = stack
const redis = stack.redis as TestRedis
const api = stack.api as Service
const tokenUrl = `${auth.url}/oauth/token`

/** Prometheus text → sample value by `name{labels}` (labels as written). */
async function scrape(url: string): Promise<{ type: string; samples: Map<string, number> }> {
  const res = await fetch(`${url}/metrics`)
  const samples = new Map<string, number>()
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return { type: res.headers.get('content-type') ?? '', samples }
}

/** Sum of a metric's samples whose labels include every given pair. */
function total(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const [key, value] of samples) {
    const [metric, rest = ''] = key.split('{')
    if (metric !== name) continue
    if (Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) sum += value
  }
  return sum
}

const login = (username: string, password: string) =>
  tokenRequest(tokenUrl, {
    grant_type: 'password',
    client_id: WEB.id,
    username,
    password,
    scope: 'openid notes:read',
  })

t.test('auth server: tokens, refreshes, reuse, login failures, lockouts, latency, store errors', async (t) => {
  const before = (await scrape(auth.url)).samples
  t.equal((await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, SERVICE)).status, 200)
  const session = await login(ALICE.username, ALICE.password)
  const first = session.body.refresh_token as string
  const rotated = await tokenRequest(tokenUrl, { grant_type: 'refresh_token', client_id: WEB.id, refresh_token: first })
  t.equal(rotated.status, 200)
  t.equal(
    (await tokenRequest(tokenUrl, { grant_type: 'refresh_token', client_id: WEB.id, refresh_token: first })).body.error,
    'invalid_grant',
    'the spent token again: reuse',
  )
  for (let i = 0; i < 3; i++) await login('bob', 'not-bobs-password')

  const { type, samples } = await scrape(auth.url)
  t.match(type, /^text\/plain; version=0\.0\.4/)
  const delta = (name: string, labels?: Record<string, string>) =>
    total(samples, name, labels) - total(before, name, labels)
  t.equal(delta('tollgate_tokens_issued_total', { grant: 'client_credentials', client_id: SERVICE.id }), 1)
  t.equal(delta('tollgate_tokens_issued_total', { grant: 'password', client_id: WEB.id }), 1)
  t.equal(delta('tollgate_tokens_issued_total', { grant: 'refresh_token', client_id: WEB.id }), 1)
  t.equal(delta('tollgate_refresh_total', { outcome: 'rotated' }), 1)
  t.equal(delta('tollgate_refresh_reuse_detected_total', { client_id: WEB.id }), 1)
  t.equal(delta('tollgate_login_failures_total'), 3)
  t.equal(delta('tollgate_account_lockouts_total'), 1)
  t.ok(delta('tollgate_http_request_duration_seconds_count', { route: '/oauth/token', status: '200' }) >= 3)
  t.ok(total(samples, 'tollgate_process_resident_memory_bytes') > 0, 'process metrics too')

  await redis.kill()
  // (client_credentials would still work: it needs only the cached client record and the signing key.)
  const down = await login(ALICE.username, ALICE.password)
  t.equal(down.status, 503)

  const after = (await scrape(auth.url)).samples
  t.equal(total(after, 'tollgate_store_unavailable_total') - total(samples, 'tollgate_store_unavailable_total'), 1)
  await redis.restart()
})

t.test('resource API: JWKS fetches and failures, refused tokens, latency', async (t) => {
  const before = (await scrape(api.url)).samples
  const { body } = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, SERVICE)
  const ok = await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${body.access_token}` } })
  t.equal(ok.status, 200)
  t.equal((await fetch(`${api.url}/v1/notes`)).status, 401)
  t.equal((await fetch(`${api.url}/v1/notes`, { headers: { authorization: 'Bearer not.a.jwt' } })).status, 401)

  const { samples } = await scrape(api.url)
  const delta = (name: string, labels?: Record<string, string>) =>
    total(samples, name, labels) - total(before, name, labels)
  t.ok(total(samples, 'tollgate_jwks_fetches_total', { outcome: 'ok' }) >= 1, 'the JWKS was fetched')
  t.equal(total(samples, 'tollgate_jwks_fetch_failures_total'), 0)
  t.equal(delta('tollgate_tokens_refused_total'), 2)
  t.equal(delta('tollgate_http_request_duration_seconds_count', { route: '/v1/notes', status: '200' }), 1)
  t.equal(delta('tollgate_http_request_duration_seconds_count', { route: '/v1/notes', status: '401' }), 2)

  // The auth server goes away; a token with an unknown kid makes the API refetch the JWKS, which fails and is
  // counted, while the good keys stay in use.
  await auth.stop('SIGKILL')
  const { privateKey } = await generateKeyPair('RS256')
  const forged = await new SignJWT({ scope: 'notes:read', client_id: 'x', jti: 'j' })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'unknown-kid' })
    .setIssuer(auth.url)
    .setAudience(audience)
    .setSubject('x')
    .setIssuedAt()
    .setExpirationTime('1m')
    .sign(privateKey)
  t.equal((await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${forged}` } })).status, 401)
  const later = (await scrape(api.url)).samples
  t.ok(total(later, 'tollgate_jwks_fetch_failures_total') >= 1, 'the failed refetch is counted')
  t.ok(total(later, 'tollgate_jwks_fetches_total', { outcome: 'error' }) >= 1)
  const still = await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${body.access_token}` } })
  t.equal(still.status, 200, 'the known key keeps working')
})

t.test('issue 22: METRICS_PORT serves /metrics on its own listener only, behind METRICS_TOKEN', async (t) => {
  const token = 'scrape-token-0123456789abcdef'
  const authMetrics = await freePort()
  const apiMetrics = await freePort()
  const other = await startAuthServer({
    env: { METRICS_PORT: String(authMetrics), METRICS_TOKEN: token, KEYS_DIR: stack.keysDir },
  })
  const otherApi = await startResourceApi({
    env: { ISSUER: other.url, METRICS_PORT: String(apiMetrics), METRICS_TOKEN: token, REVOCATION_EVENTS: 'off' },
    readyPath: '/healthz',
  })
  stopWith(t, { 'the second auth server': other, 'the second resource API': otherApi })
  for (const [name, service, port] of [
    ['auth server', other, authMetrics],
    ['resource API', otherApi, apiMetrics],
  ] as const) {
    t.equal((await fetch(`${service.url}/metrics`)).status, 404, `${name}: not on the service port`)
    const bare = await fetch(`http://127.0.0.1:${port}/metrics`)
    t.equal(bare.status, 401, `${name}: the metrics port wants the token`)
    t.equal(bare.headers.get('www-authenticate'), 'Bearer realm="metrics"')
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(ok.status, 200, name)
    t.match(await ok.text(), /tollgate_/)
  }
})
