// Property-based fuzzing of the HTTP surface: token endpoint forms and headers, session JSON, authorize queries.
// Whatever arrives: no 5xx, no crash, and every error is an RFC-shaped JSON body.
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { basic, SERVICE_SECRET, testServer } from '../helpers.js'

const RUNS = 10_000
const TIME_LIMIT = 120_000
// Real limits, but out of the way: the fuzzer is one IP sending thousands of failures.
const { app } = await testServer({ COOKIE_SECURE: 'false', TOKEN_RATE_LIMIT: '0', LOGIN_IP_MAX_FAILURES: '50' })

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

async function run(t: Test, name: string, property: fc.IAsyncProperty<unknown[]>) {
  const result = await fc.check(property, { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT })
  t.equal(
    result.failed,
    false,
    `${name}: ${result.counterexample ? JSON.stringify(result.counterexample).slice(0, 500) : 'no counterexample'}`,
  )
  t.ok(result.numRuns >= RUNS, `${name}: ${result.numRuns} cases`)
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
        return rfcShaped(res.statusCode, res.body)
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
        return rfcShaped(res.statusCode, res.body)
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
      if (page.statusCode >= 500) return false
      const del = await app.inject({ method: 'DELETE', url: `/session/${encodeURIComponent(id)}` })
      return rfcShaped(del.statusCode, del.body)
    }),
  )
})
