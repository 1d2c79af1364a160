// The gate in process (app.inject): decisions for each proxy's contract, the answers' headers, policy, DPoP,
// failing closed, metrics, readiness and RFC 9728 metadata. Real proxies and processes: test/e2e/gate*.test.ts.
import t from 'tap'
import { proofKey } from '../../../test/support/dpop.js'
import { claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint, nowSec } from '../../shared/test/helpers.js'
import { buildGate } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const AUD = 'https://shop.example'
const key = await makeKey('k1')
const jwks = jwksServer([key.jwk])
const POLICY = {
  rules: [
    { path: '/orders', scopes: ['orders:read'] },
    { path: '/orders', methods: ['POST'], scopes: ['orders:write'] },
    { path: '/health', public: true },
    { path: '/pay', dpop: 'required' },
  ],
}
const gate = async (env: Record<string, string> = {}) => {
  const app = await buildGate({
    config: loadConfig({
      ISSUER,
      AUDIENCE: AUD,
      JWKS_URI,
      REVOCATION_EVENTS: 'off',
      GATE_POLICY: JSON.stringify(POLICY),
      ...env,
    }),
    fetch: jwks.fetch,
    logger: false,
  })
  t.teardown(() => app.close())
  return app
}
const app = await gate()
const token = (overrides: Record<string, unknown> = {}) =>
  mint(key, claims({ aud: AUD, scope: 'orders:read', sid: 'session-1', ...overrides }))
/** Traefik's request for an original one (its ForwardAuth headers). */
const forwarded = (method: string, uri: string, extra: Record<string, string> = {}) => ({
  'x-forwarded-method': method,
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example',
  'x-forwarded-uri': uri,
  ...extra,
})
const IDENTITY = ['x-auth-subject', 'x-auth-client-id', 'x-auth-scope', 'x-auth-session', 'x-auth-actor']
const identityOf = (headers: Record<string, unknown>) => Object.fromEntries(IDENTITY.map((h) => [h, headers[h]]))

t.test('a valid token: 200, empty body, every identity header', async (t) => {
  const res = await app.inject({
    url: '/verify',
    headers: forwarded('GET', '/orders/7?x=1', { authorization: `Bearer ${await token()}` }),
  })
  t.equal(res.statusCode, 200)
  t.equal(res.body, '')
  t.equal(res.headers['cache-control'], 'no-store')
  t.same(identityOf(res.headers), {
    'x-auth-subject': 'user-1',
    'x-auth-client-id': 'web',
    'x-auth-scope': 'orders:read',
    'x-auth-session': 'session-1',
    'x-auth-actor': '',
  })
})

t.test('after a token exchange X-Auth-Actor carries the chain, outermost first', async (t) => {
  const exchanged = await token({ act: { sub: 'orders-svc', act: { sub: 'gateway-svc' } }, sid: undefined })
  const res = await app.inject({
    url: '/verify',
    headers: forwarded('GET', '/orders', { authorization: `Bearer ${exchanged}` }),
  })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['x-auth-actor'], 'orders-svc, gateway-svc')
  t.equal(res.headers['x-auth-session'], '', 'no sid: present and empty')
})

t.test('no token: 401 with a bare challenge and no made-up error code', async (t) => {
  const res = await app.inject({ url: '/verify', headers: forwarded('GET', '/orders') })
  t.equal(res.statusCode, 401)
  const [first] = [res.headers['www-authenticate']].flat()
  t.equal(first, `Bearer realm="${AUD}", resource_metadata="${AUD}/.well-known/oauth-protected-resource"`)
  t.notOk('error' in res.json())
  t.notOk('x-auth-subject' in res.headers, 'a refusal carries no identity')
})

t.test('forged, expired, wrong-audience tokens: 401 invalid_token naming the cause', async (t) => {
  const other = await makeKey('k1')
  const cases: [string, RegExp][] = [
    [await mint(other, claims({ aud: AUD })), /signature/],
    [await token({ exp: nowSec() - 60, iat: nowSec() - 400 }), /expired/],
    [await token({ aud: 'https://elsewhere.example' }), /"aud"/],
  ]
  for (const [bad, why] of cases) {
    const res = await app.inject({
      url: '/verify',
      headers: forwarded('GET', '/orders', { authorization: `Bearer ${bad}` }),
    })
    t.equal(res.statusCode, 401)
    t.match(res.headers['www-authenticate']?.[0], /error="invalid_token"/)
    t.match(res.json().error_description, why)
  }
})

t.test('a missing scope: 403 insufficient_scope with the scope it needs', async (t) => {
  const res = await app.inject({
    url: '/verify',
    headers: forwarded('POST', '/orders', { authorization: `Bearer ${await token()}` }),
  })
  t.equal(res.statusCode, 403)
  t.match(res.headers['www-authenticate']?.[0], /error="insufficient_scope".*scope="orders:write"/)
  t.equal(res.json().error, 'insufficient_scope')
})

t.test('auth URL parameters name the requirement instead of the rules', async (t) => {
  const headers = forwarded('GET', '/health', { authorization: `Bearer ${await token()}` })
  t.equal((await app.inject({ url: '/verify?scope=orders:read', headers })).statusCode, 200)
  const denied = await app.inject({ url: '/verify?scope=orders:read,orders:write', headers })
  t.equal(denied.statusCode, 403, 'the location asked for more than the public rule of its path')
  const typo = await app.inject({ url: '/verify?scopes=orders:read', headers })
  t.equal(typo.statusCode, 401)
  t.match(typo.json().error_description, /unknown parameter "scopes"/)
  const elsewhere = await app.inject({ url: '/verify?audience=https://other.example', headers })
  t.equal(elsewhere.statusCode, 401, 'the token is not for that audience')
  t.notMatch(String(elsewhere.headers['www-authenticate']), 'resource_metadata', 'not the default audience')
})

t.test('a public rule: 200 with every identity header empty, token or not', async (t) => {
  for (const extra of [{}, { authorization: `Bearer ${await token()}` }, { authorization: 'Bearer junk' }] as Record<
    string,
    string
  >[]) {
    const res = await app.inject({ url: '/verify', headers: forwarded('GET', '/health/live', extra) })
    t.equal(res.statusCode, 200)
    t.same(identityOf(res.headers), Object.fromEntries(IDENTITY.map((h) => [h, ''])))
  }
})

t.test('a DPoP rule: a bearer token is refused with the DPoP challenge first', async (t) => {
  const res = await app.inject({
    url: '/verify',
    headers: forwarded('GET', '/pay', { authorization: `Bearer ${await token()}` }),
  })
  t.equal(res.statusCode, 401)
  const challenges = [res.headers['www-authenticate']].flat()
  t.equal(challenges.length, 1)
  t.match(challenges[0], /^DPoP realm=".*error="invalid_token".*DPoP-bound tokens only.*algs="/)
  const none = await app.inject({ url: '/verify', headers: forwarded('GET', '/pay') })
  t.match(none.headers['www-authenticate'], /^DPoP realm="[^"]+", resource_metadata="[^"]+", algs="/)
})

t.test('DPoP: htu is the original scheme, host and path; htm the original method; a proof counts once', async (t) => {
  const client = proofKey()
  const bound = await token({ cnf: { jkt: client.jkt } })
  const htu = 'https://shop.example/pay/42'
  const ask = (method: string, proof: string) =>
    app.inject({
      url: '/verify',
      headers: forwarded(method, '/pay/42?q=1', { authorization: `DPoP ${bound}`, dpop: proof }),
    })
  const proof = client.proof('POST', htu, { accessToken: bound })
  const ok = await ask('POST', proof)
  t.equal(ok.statusCode, 200)
  t.equal(ok.headers['x-auth-subject'], 'user-1')
  const replay = await ask('POST', proof)
  t.equal(replay.statusCode, 401)
  t.match(replay.headers['www-authenticate'], /^DPoP .*error="invalid_dpop_proof".*already used/)
  t.equal((await ask('GET', client.proof('POST', htu, { accessToken: bound }))).statusCode, 401, 'wrong htm')
  const wrongHost = client.proof('POST', 'https://evil.example/pay/42', { accessToken: bound })
  t.equal((await ask('POST', wrongHost)).statusCode, 401, 'wrong htu')
  const asBearer = await app.inject({
    url: '/verify',
    headers: forwarded('GET', '/orders', { authorization: `Bearer ${bound}` }),
  })
  t.equal(asBearer.statusCode, 401, 'a bound token as Bearer')
  t.match(asBearer.json().error_description, /bound to a DPoP key/)
})

t.test('DPOP_NONCE=required: use_dpop_nonce with a DPoP-Nonce, then accepted with it', async (t) => {
  const nonced = await gate({ DPOP_NONCE: 'required' })
  const client = proofKey()
  const bound = await token({ cnf: { jkt: client.jkt } })
  const ask = (proof: string) =>
    nonced.inject({
      url: '/verify',
      headers: forwarded('GET', '/pay', { authorization: `DPoP ${bound}`, dpop: proof }),
    })
  const first = await ask(client.proof('GET', 'https://shop.example/pay', { accessToken: bound }))
  t.equal(first.statusCode, 401)
  t.match(first.headers['www-authenticate'], /error="use_dpop_nonce"/)
  const nonce = first.headers['dpop-nonce'] as string
  t.ok(nonce)
  const second = await ask(client.proof('GET', 'https://shop.example/pay', { accessToken: bound, nonce }))
  t.equal(second.statusCode, 200)
  t.ok(second.headers['dpop-nonce'], 'every DPoP answer names the nonce to use next')
})

t.test('only TRUST_PROXY peers are answered', async (t) => {
  const res = await app.inject({
    url: '/verify',
    remoteAddress: '10.9.9.9',
    headers: forwarded('GET', '/orders', { authorization: `Bearer ${await token()}` }),
  })
  t.equal(res.statusCode, 401)
  t.match(res.json().error_description, /10\.9\.9\.9 is not in TRUST_PROXY/)
  const trusting = await gate({ TRUST_PROXY: '10.9.0.0/16' })
  const ok = await trusting.inject({
    url: '/verify',
    remoteAddress: '10.9.9.9',
    headers: forwarded('GET', '/orders', { authorization: `Bearer ${await token()}` }),
  })
  t.equal(ok.statusCode, 200)
})

t.test('a client that adds the other header family cannot point the gate at a public path', async (t) => {
  const res = await app.inject({
    url: '/verify',
    headers: forwarded('GET', '/orders', { 'x-original-uri': '/health', 'x-original-method': 'GET' }),
  })
  t.equal(res.statusCode, 401)
  t.match(res.json().error_description, /name different URIs/)
})

t.test('a claim no header can carry refuses the token instead of mangling it', async (t) => {
  const res = await app.inject({
    url: '/verify',
    headers: forwarded('GET', '/orders', { authorization: `Bearer ${await token({ sub: 'zoë' })}` }),
  })
  t.equal(res.statusCode, 401)
  t.match(res.json().error_description, /subject cannot be passed on in a header/)
})

t.test('Envoy ext_authz: the original method, path and Host, any method', async (t) => {
  for (const method of ['GET', 'POST', 'DELETE', 'PROPFIND', 'PURGE', 'OPTIONS']) {
    const res = await app.inject({
      method: method as 'GET',
      url: '/ext-authz/orders/7?x=1',
      headers: {
        host: 'shop.example',
        'x-forwarded-proto': 'https',
        'content-length': '0',
        authorization: `Bearer ${await token({ scope: 'orders:read orders:write' })}`,
      },
    })
    t.equal(res.statusCode, 200, method)
    t.equal(res.headers['x-auth-subject'], 'user-1')
  }
  const scoped = await app.inject({
    method: 'POST',
    url: '/ext-authz/orders/7',
    headers: { host: 'shop.example', 'x-forwarded-proto': 'https', authorization: `Bearer ${await token()}` },
  })
  t.equal(scoped.statusCode, 403, 'rules apply to the path after /ext-authz')
})

t.test('the gate fails closed with 401 when it has no keys', async (t) => {
  const down = jwksServer([key.jwk])
  down.state.mode = 'error'
  const cold = await buildGate({
    config: loadConfig({ ISSUER, AUDIENCE: AUD, JWKS_URI, REVOCATION_EVENTS: 'off' }),
    fetch: down.fetch,
    logger: false,
  })
  t.teardown(() => cold.close())
  const res = await cold.inject({
    url: '/verify',
    headers: forwarded('GET', '/', { authorization: `Bearer ${await token()}` }),
  })
  t.equal(res.statusCode, 401)
  t.match(
    res.headers['www-authenticate'],
    /error="temporarily_unavailable", error_description="signing keys are not available yet"/,
  )
  t.equal((await cold.inject({ url: '/readyz' })).statusCode, 503)
})

t.test('whatever arrives, /verify and /ext-authz answer 200, 401 or 403', async (t) => {
  const good = await token()
  const requests = [
    { url: '/verify' },
    { url: '/verify?%zz=1', headers: forwarded('GET', '/orders') },
    { url: '/verify', headers: forwarded('GET', '/orders', { authorization: 'Bearer a b' }) },
    { url: '/verify', headers: forwarded('GET', '/orders', { authorization: `DPoP ${good}` }) },
    { url: '/verify', headers: forwarded('GET', '/orders', { authorization: 'DPoP' }) },
    { url: '/verify', headers: forwarded('GET', '/orders', { authorization: `Bearer ${'a'.repeat(20_000)}` }) },
    { url: '/verify', headers: forwarded('GET', '/or%zzders', { authorization: `Bearer ${good}` }) },
    { url: '/verify', headers: forwarded('GET', '/orders/../health', { authorization: `Bearer ${good}` }) },
    { url: '/verify', headers: forwarded('GET', '/x', { 'x-forwarded-host': 'a b' }) },
    { url: '/verify', headers: forwarded('GET', '/x', { 'x-forwarded-host': '[zz]' }) },
    { url: '/verify', headers: forwarded('G E T', '/x') },
    { url: '/verify', method: 'POST' as const, headers: { 'content-type': 'application/x-nonsense' }, payload: 'x' },
    { url: '/verify', method: 'PUT' as const, headers: { 'content-type': 'application/json' }, payload: '{bad' },
    { url: '/ext-authz/%zz' },
    { url: '/ext-authz/x', headers: { host: 'a|b', 'x-forwarded-proto': 'https' } },
    { url: '/ext-authz/x', headers: { host: 'ex ample', 'x-forwarded-proto': 'https' } },
    { url: `/ext-authz/${'a/'.repeat(5000)}`, headers: { host: 'shop.example', 'x-forwarded-proto': 'https' } },
  ]
  for (const request of requests) {
    const res = await app.inject(request)
    t.ok([200, 401, 403].includes(res.statusCode), `${request.url.slice(0, 40)}: ${res.statusCode}`)
    t.notMatch(res.body, /at .*\.(js|ts):\d+/, 'no stack trace')
  }
})

t.test('metrics count decisions by result and reason, with their latency', async (t) => {
  const res = await app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.body, /tollgate_gate_decisions_total\{result="allowed",reason="token"\} \d+/)
  t.match(res.body, /tollgate_gate_decisions_total\{result="allowed",reason="public"\} \d+/)
  t.match(res.body, /tollgate_gate_decisions_total\{result="forbidden",reason="ERR_INSUFFICIENT_SCOPE"\} \d+/)
  t.match(res.body, /tollgate_gate_decisions_total\{result="refused",reason="ERR_TOKEN_EXPIRED"\} \d+/)
  t.match(res.body, /tollgate_gate_decisions_total\{result="refused",reason="untrusted_peer"\} \d+/)
  t.match(res.body, /tollgate_gate_decision_duration_seconds_bucket\{result="allowed",le="0.001"\} \d+/)
  t.notMatch(res.body, /eyJ/, 'no token material')
})

t.test('health, readiness, and RFC 9728 metadata when the gate serves one audience', async (t) => {
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), { status: 'ready', keys: 'ok', revocation: 'off', replay_store: 'memory' })
  const metadata = await app.inject({ url: '/.well-known/oauth-protected-resource' })
  t.same(metadata.json(), {
    resource: AUD,
    authorization_servers: [ISSUER],
    scopes_supported: ['orders:read', 'orders:write'],
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'RS256', 'PS256'],
    dpop_bound_access_tokens_required: false,
  })
  const all = await gate({ GATE_POLICY: JSON.stringify({ rules: [{ path: '/', dpop: 'required' }] }) })
  const strict = await all.inject({ url: '/.well-known/oauth-protected-resource' })
  t.equal(strict.json().dpop_bound_access_tokens_required, true)
  const two = await gate({ GATE_POLICY: JSON.stringify({ rules: [{ path: '/b', audience: 'https://b.example' }] }) })
  t.equal((await two.inject({ url: '/.well-known/oauth-protected-resource' })).statusCode, 404, 'two audiences')
  const refused = await two.inject({ url: '/verify', headers: forwarded('GET', '/') })
  t.notMatch(String(refused.headers['www-authenticate']), 'resource_metadata')
})

t.test('the revocation feed too far behind (REVOCATION_MAX_LAG): 401 naming the cause', async (t) => {
  let offset = 0
  const lagging = await buildGate({
    config: loadConfig({
      ISSUER,
      AUDIENCE: AUD,
      JWKS_URI,
      // Nothing listens there: the feed never connects, so its lag grows with the clock.
      REVOCATION_EVENTS: 'http://127.0.0.1:1/revocation-events',
      REVOCATION_MAX_LAG: '5',
    }),
    fetch: jwks.fetch,
    logger: false,
    now: () => Date.now() + offset,
  })
  t.teardown(() => lagging.close())
  const ask = async () =>
    lagging.inject({ url: '/verify', headers: forwarded('GET', '/', { authorization: `Bearer ${await token()}` }) })
  t.equal((await ask()).statusCode, 200, 'within the bound')
  offset = 6_000
  const res = await ask()
  t.equal(res.statusCode, 401)
  t.match(
    res.headers['www-authenticate'],
    /error="temporarily_unavailable", error_description="revocation events are [\d.]+ s behind"/,
  )
  t.equal((await lagging.inject({ url: '/readyz' })).statusCode, 503)
})

t.test('the shared replay store (REDIS_URL) unreachable: DPoP proofs refused, saying so', async (t) => {
  const noRedis = await gate({ REDIS_URL: 'redis://127.0.0.1:1' })
  const client = proofKey()
  const bound = await token({ cnf: { jkt: client.jkt } })
  const res = await noRedis.inject({
    url: '/verify',
    headers: forwarded('GET', '/pay', {
      authorization: `DPoP ${bound}`,
      dpop: client.proof('GET', 'https://shop.example/pay', { accessToken: bound }),
    }),
  })
  t.equal(res.statusCode, 401)
  t.match(
    res.headers['www-authenticate'],
    /temporarily_unavailable.*the DPoP replay store \(REDIS_URL\) is unreachable/,
  )
  t.match((await noRedis.inject({ url: '/readyz' })).json(), { status: 'not ready', replay_store: 'unreachable' })
})

t.test('issue 22: /metrics behind METRICS_TOKEN, or not on the gate port at all with METRICS_PORT', async (t) => {
  const secret = 'gate-metrics-0123456789abcdef'
  const guarded = await gate({ METRICS_TOKEN: secret })
  const bare = await guarded.inject({ url: '/metrics' })
  t.equal(bare.statusCode, 401)
  t.equal(bare.headers['www-authenticate'], 'Bearer realm="metrics"')
  const ok = await guarded.inject({ url: '/metrics', headers: { authorization: `Bearer ${secret}` } })
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /tollgate_gate_decisions_total/)
  const moved = await gate({ METRICS_PORT: '9465' })
  t.equal((await moved.inject({ url: '/metrics' })).statusCode, 404)
})
