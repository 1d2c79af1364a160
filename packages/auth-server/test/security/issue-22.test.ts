// Issue 22: tokens signed with the server's own key but with claims of the wrong type or range never reach a 500 or
// Redis — every path that reads a token reads it through the one core: revocation, introspection, exchange,
// userinfo, sessions, logout hints.
import t from 'tap'
import { startRedis } from '../../../../test/support/redis.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { TOKEN_EXCHANGE } from '../../src/store/types.js'
import { signJwt } from '../../src/tokens/jws.js'
import { API, basic, bootstrapDoc, form, ISSUER, SERVICE_SECRET, testServer } from '../helpers.js'

const EXCHANGER_SECRET = `${SERVICE_SECRET}-exchanger`
// On Redis: the store the 500 came from (a Lua script given `Infinity` for a TTL).
const redis = await startRedis()
t.teardown(() => redis.stop())
const store = await RedisStore.connect({ url: redis.url, prefix: redis.prefix })
t.teardown(() => store.close())
const { app, keystore, clock } = await testServer(
  {},
  {
    store,
    doc: {
      ...bootstrapDoc,
      clients: [
        ...(bootstrapDoc.clients ?? []),
        {
          client_id: 'exchanger',
          client_secret: EXCHANGER_SECRET,
          grant_types: [TOKEN_EXCHANGE],
          scopes: ['notes:read'],
          audiences: ['https://stock.test'],
          token_exchange: { subject_audiences: [API], audiences: ['https://stock.test'] },
        },
      ],
    },
  },
)
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const nowSec = () => Math.floor(clock.now / 1000)

/** An access token signed by the server's own active key, with any claims. */
async function forge(overrides: Record<string, unknown>, typ = 'at+jwt'): Promise<string> {
  const key = keystore.signingKey()
  const claims: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'service',
    aud: API,
    exp: nowSec() + 600,
    iat: nowSec(),
    jti: `j-${Math.random().toString(36).slice(2)}`,
    client_id: 'service',
    scope: 'notes:read',
    ...overrides,
  }
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete claims[k]
  return signJwt(claims, typ, key)
}

const post = (url: string, fields: Record<string, string>, secret = SERVICE_SECRET, id = 'service') =>
  app.inject({ method: 'POST', url, headers: { ...FORM, authorization: basic(id, secret) }, payload: form(fields) })

const badTimes = [1e14, 1e308, 2 ** 53, nowSec() + 600.0001, -1, '1800000000', null]
const badAudiences = [5, null, [null], [5], [[API]], { a: API }, [], '']

t.test('revocation: an exp that is not a sane whole number is not a 500, and nothing reaches Redis', async (t) => {
  for (const exp of badTimes) {
    const res = await post('/oauth/revoke', { token: await forge({ exp }) })
    t.equal(res.statusCode, 200, `exp ${String(exp)}: 200 as for any unknown token`)
  }
  const good = await forge({})
  t.equal((await post('/oauth/revoke', { token: good })).statusCode, 200)
  const after = await post('/oauth/introspect', { token: good })
  t.same(after.json(), { active: false }, 'a well-formed token is still revoked as before')
})

t.test('introspection: an aud of the wrong type is inactive, not a 500', async (t) => {
  for (const aud of badAudiences) {
    const res = await post('/oauth/introspect', { token: await forge({ aud }) })
    t.equal(res.statusCode, 200, `aud ${JSON.stringify(aud)}`)
    t.same(res.json(), { active: false })
  }
  for (const [claim, value] of [
    ['exp', 1e308],
    ['iat', 2 ** 53],
    ['sub', 7],
    ['sub', ''],
    ['client_id', 'a\u0000b'],
    ['jti', ['x']],
    ['sid', 5],
    ['scope', 'notes:read\u0000admin'],
    ['scope', 7],
    ['cnf', { jkt: 5 }],
    ['act', { sub: 5 }],
    ['auth_time', 1.5],
    ['roles', [1]],
  ] as const) {
    const res = await post('/oauth/introspect', { token: await forge({ [claim]: value }) })
    t.equal(res.statusCode, 200, `${claim} ${JSON.stringify(value)}`)
    t.same(res.json(), { active: false }, `${claim} ${JSON.stringify(value)}: inactive`)
  }
  const fine = await post('/oauth/introspect', { token: await forge({ aud: [API, 'https://x.test'] }) })
  t.equal(fine.json().active, true, 'an array of audiences is fine')
})

t.test('token exchange: a subject token with a malformed aud is invalid_request, not a 500', async (t) => {
  for (const aud of [null, 5, { a: API }, [5]]) {
    const res = await post(
      '/oauth/token',
      {
        grant_type: TOKEN_EXCHANGE,
        subject_token: await forge({ aud, sub: 'user-1', client_id: 'web' }),
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: 'https://stock.test',
      },
      EXCHANGER_SECRET,
      'exchanger',
    )
    t.equal(res.statusCode, 400, `aud ${JSON.stringify(aud)}`)
    t.equal(res.json().error, 'invalid_request')
  }
  const ok = await post(
    '/oauth/token',
    {
      grant_type: TOKEN_EXCHANGE,
      subject_token: await forge({ sub: 'user-1', client_id: 'web' }),
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'https://stock.test',
    },
    EXCHANGER_SECRET,
    'exchanger',
  )
  t.equal(ok.statusCode, 200, 'a well-formed subject token is exchanged')
})

t.test('userinfo and the session list refuse malformed claims with 401, never 500', async (t) => {
  for (const overrides of [{ exp: 1e14 }, { aud: null }, { sub: 5 }, { scope: 'openid\u0007' }]) {
    const token = await forge({ ...overrides, scope: 'openid' in overrides ? overrides.scope : 'openid' })
    for (const url of ['/userinfo', '/session']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
      t.equal(res.statusCode, 401, `${url} ${JSON.stringify(overrides)}`)
    }
  }
})

t.test('a logout hint with claims of the wrong type is an error page, not a 500', async (t) => {
  for (const overrides of [{ aud: 5 }, { sub: null }, { exp: 1e308 }, { iat: 'x' }]) {
    const hint = await forge({ ...overrides, client_id: undefined, jti: undefined, scope: undefined }, 'JWT')
    const res = await app.inject({ method: 'GET', url: `/oauth/logout?id_token_hint=${hint}` })
    t.equal(res.statusCode, 400, JSON.stringify(overrides))
    t.match(res.headers['content-type'], /text\/html/)
  }
})
