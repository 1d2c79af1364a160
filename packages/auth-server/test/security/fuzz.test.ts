// Property-based fuzzing of the HTTP surface: token endpoint forms and headers, session JSON, authorize queries, logout
// hints, random methods, paths and Host headers, and tokens signed with the server's own key whose claims have every
// wrong type. Whatever arrives: no 5xx, no crash, no stack trace or validator text, every error an RFC-shaped body,
// and the server healthy afterwards.
//   FUZZ_RUNS=100000 pnpm exec tap packages/auth-server/test/security/fuzz.test.ts   (a longer run; FUZZ_SEED=… replays one)
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { signJwt } from '../../src/tokens/jws.js'
import { API, basic, ISSUER, SERVICE_SECRET, testServer } from '../helpers.js'

/** Cases per property: a few thousand in `pnpm test`; FUZZ_RUNS for a longer hunt. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000)
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
const TIME_LIMIT = Number(process.env.FUZZ_RUNS ?? 0) > 10_000 ? 3_600_000 : 120_000
t.comment(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${RUNS} cases per property`)
// Real limits, but out of the way: the fuzzer is one IP sending thousands of failures.
const { app, keystore, clock } = await testServer({
  COOKIE_SECURE: 'false',
  TOKEN_RATE_LIMIT: '0',
  LOGIN_IP_MAX_FAILURES: '50',
})

/** What no answer may contain: a stack trace, a validator's schema path or words, Fastify's own error shape. */
const LEAKS = /\n\s+at |(body|querystring|params|headers)\/|must NOT|must be object|#\/|FST_ERR|"statusCode"/

const PARAMS = [
  'grant_type',
  'client_id',
  'client_secret',
  'scope',
  'resource',
  'username',
  'password',
  'refresh_token',
  'code',
  'redirect_uri',
  'code_verifier',
  'token',
  'token_type_hint',
]
const GRANTS = ['client_credentials', 'password', 'refresh_token', 'authorization_code', 'urn:x', '']
const text = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(...GRANTS, 'service', 'web', SERVICE_SECRET, 'openid notes:read'),
)
const formBody = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 12 })), text), { maxLength: 10 })
  .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'))
const rawBody = fc.oneof(formBody, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }))
const contentType = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded; charset=latin1',
  undefined,
)
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(basic('service', SERVICE_SECRET)),
  fc.string({ maxLength: 40 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
  fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
  fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
)

function rfcShaped(status: number, body: string): boolean {
  if (status >= 500) return false
  if (status < 400) return true
  try {
    const json = JSON.parse(body) as Record<string, unknown>
    return typeof json.error === 'string' && /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(json.error)
  } catch {
    return false
  }
}

/** No 5xx, RFC-shaped errors, nothing leaked. */
const acceptable = (status: number, body: string) => rfcShaped(status, body) && !LEAKS.test(body)

async function run(t: Test, name: string, property: fc.IAsyncProperty<unknown[]>, runs = RUNS) {
  const result = await fc.check(property, { numRuns: runs, seed: SEED, interruptAfterTimeLimit: TIME_LIMIT })
  t.equal(
    result.failed,
    false,
    `${name}: ${result.counterexample ? JSON.stringify(result.counterexample).slice(0, 500) : 'no counterexample'} (seed ${SEED}, path ${result.counterexample ? result.counterexamplePath : '-'})`,
  )
  t.ok(result.numRuns >= runs, `${name}: ${result.numRuns} cases`)
}

t.test('token, revocation and introspection endpoints', async (t) => {
  await run(
    t,
    'form endpoints',
    fc.asyncProperty(
      fc.constantFrom('/oauth/token', '/oauth/revoke', '/oauth/introspect'),
      rawBody,
      contentType,
      authorization,
      async (url, payload, type, auth) => {
        const headers: Record<string, string> = {}
        if (type) headers['content-type'] = type
        if (auth) headers.authorization = auth
        const res = await app.inject({ method: 'POST', url, headers, payload })
        if (res.statusCode === 401 && !res.headers['www-authenticate']) return false
        return acceptable(res.statusCode, res.body)
      },
    ),
  )
})

t.test('session endpoints', async (t) => {
  const json = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc
      .record({ client_id: text, username: text, password: text, scope: text }, { requiredKeys: [] })
      .map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 100 }),
  )
  const origin = fc.constantFrom('https://app.test', 'https://evil.test', 'null', undefined)
  const cookie = fc.oneof(
    fc.constant(undefined),
    fc
      .string({ maxLength: 80 })
      .filter((s) => /^[\x21-\x7e]*$/.test(s) && !s.includes(';'))
      .map((s) => `tg_session=${s}`),
  )
  await run(
    t,
    'session endpoints',
    fc.asyncProperty(
      fc.constantFrom('/session/login', '/session/refresh', '/session/logout', '/session/logout-all'),
      json,
      origin,
      cookie,
      authorization,
      async (url, payload, org, c, auth) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' }
        if (org) headers.origin = org
        if (c) headers.cookie = c
        if (auth) headers.authorization = auth
        const res = await app.inject({ method: 'POST', url, headers, payload })
        return acceptable(res.statusCode, res.body)
      },
    ),
  )
})

t.test('authorization endpoint queries and session management paths', async (t) => {
  const query = fc
    .array(
      fc.tuple(
        fc.constantFrom(
          'response_type',
          'client_id',
          'redirect_uri',
          'scope',
          'state',
          'nonce',
          'code_challenge',
          'code_challenge_method',
          'resource',
          'x',
        ),
        text,
      ),
      { maxLength: 9 },
    )
    .map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'))
  await run(
    t,
    'authorize and session management',
    fc.asyncProperty(query, fc.string({ maxLength: 30 }), async (q, id) => {
      const page = await app.inject({ url: `/oauth/authorize?${q}` })
      if (page.statusCode >= 500 || LEAKS.test(page.body)) return false
      const del = await app.inject({ method: 'DELETE', url: `/session/${encodeURIComponent(id)}` })
      return acceptable(del.statusCode, del.body)
    }),
  )
})

/** Claims of every wrong type: each registered or Tollgate claim replaced by a value of another shape. */
const CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'client_id',
  'scope',
  'sid',
  'auth_time',
  'roles',
  'cnf',
  'act',
]
const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(1e14, 1e308, 2 ** 53, -1, 0.5, '', '__proto__', 'constructor', '\u0000', 'a\u202eb', [], [null], {}),
  fc.double(),
  fc.string({ maxLength: 20 }),
)
const oddClaims = fc.dictionary(fc.constantFrom(...CLAIMS), oddValue, { maxKeys: 4 })

/** An access token (or ID token) signed by the server's own active key, with the given claims over sane ones. */
async function signed(overrides: Record<string, unknown>, typ: string): Promise<string> {
  const key = keystore.signingKey()
  const now = Math.floor(clock.now / 1000)
  const base = {
    iss: ISSUER,
    sub: 'service',
    aud: API,
    exp: now + 300,
    iat: now,
    jti: 'j',
    client_id: 'service',
    scope: 'notes:read',
  }
  return signJwt({ ...base, ...overrides }, typ, key)
}

t.test(
  'issue 22: tokens signed with the server key, claims of every wrong type, at every endpoint that reads one',
  async (t) => {
    const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
    await run(
      t,
      'signed odd tokens',
      fc.asyncProperty(oddClaims, fc.constantFrom('at+jwt', 'JWT'), async (overrides, typ) => {
        const token = await signed(overrides, typ)
        const auth = { authorization: basic('service', SERVICE_SECRET) }
        const answers = await Promise.all([
          app.inject({
            method: 'POST',
            url: '/oauth/introspect',
            headers: { ...FORM, ...auth },
            payload: `token=${token}`,
          }),
          app.inject({
            method: 'POST',
            url: '/oauth/revoke',
            headers: { ...FORM, ...auth },
            payload: `token=${token}`,
          }),
          app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${token}` } }),
          app.inject({ url: '/session', headers: { authorization: `Bearer ${token}` } }),
          app.inject({ method: 'POST', url: '/session/logout-all', headers: { authorization: `Bearer ${token}` } }),
          app.inject({ url: `/oauth/logout?id_token_hint=${token}` }),
        ])
        return answers.every((res, i) =>
          i === 5 ? res.statusCode < 500 && !LEAKS.test(res.body) : acceptable(res.statusCode, res.body),
        )
      }),
      Math.max(200, Math.floor(RUNS / 4)),
    )
  },
)

t.test('issue 22: any method, any path, any Host, any encoding', async (t) => {
  const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD')
  const path = fc.oneof(
    fc.constantFrom(
      '/oauth/token',
      '/oauth/authorize',
      '/oauth/logout',
      '/userinfo',
      '/session',
      '/.well-known/jwks.json',
      '/readyz',
      '/metrics',
    ),
    fc.string({ maxLength: 30 }).map((s) => `/${encodeURIComponent(s)}`),
    fc.constantFrom('/%zz', '/%', '/a%2', '/oauth/token?scope=%ZZ', '//x', '/..%2f', '/%E2%80%AE'),
  )
  const host = fc.oneof(
    fc.constantFrom('auth.test', 'a b', '%', '[zz]', 'a|b', 'x:99999'),
    fc.string({ maxLength: 20 }),
  )
  await run(
    t,
    'methods, paths, hosts',
    fc.asyncProperty(method, path, host, fc.string({ maxLength: 60 }), async (m, p, h, body) => {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
      if (/^[\x21-\x7e]+$/.test(h)) headers.host = h
      const res = await app.inject({
        method: m as 'GET',
        url: p,
        headers,
        ...(m === 'GET' || m === 'HEAD' ? {} : { payload: body }),
      })
      if (m === 'HEAD') return res.statusCode < 500 && res.body === ''
      if (res.statusCode < 400) return res.statusCode < 500 && !LEAKS.test(res.body)
      return res.headers['content-type']?.toString().includes('html')
        ? res.statusCode < 500 && !LEAKS.test(res.body)
        : acceptable(res.statusCode, res.body)
    }),
  )
})

t.test('the server is healthy after the fuzzing', async (t) => {
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  // From another address: the fuzzer's own one may well be locked out by now (thousands of wrong secrets), as it should.
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    remoteAddress: '192.0.2.10',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('service', SERVICE_SECRET) },
    payload: 'grant_type=client_credentials',
  })
  t.equal(res.statusCode, 200, 'tokens are still issued')
})
