import t from 'tap'
import type { RefreshReuseEvent } from '../../src/events.js'
import { basic, decodeJwt, form, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const logs: Record<string, unknown>[] = []
const reuseEvents: RefreshReuseEvent[] = []
const { app, store, clock } = await testServer(
  { REFRESH_REUSE_GRACE: '10' },
  { logs, hooks: { onRefreshTokenReuse: (e) => void reuseEvents.push(e) } },
)

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const post = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: form(fields) })
const login = async (scope = 'openid notes:read profile') => {
  const res = await post('/oauth/token', {
    grant_type: 'password',
    client_id: 'web',
    username: 'alice',
    password: USER_PASSWORD,
    scope,
  })
  t.equal(res.statusCode, 200)
  return res.json() as { access_token: string; refresh_token: string; scope: string }
}
const refresh = (token: string, extra: Record<string, string> = {}, client = 'web') =>
  post('/oauth/token', { grant_type: 'refresh_token', client_id: client, refresh_token: token, ...extra })

t.test('the password grant returns a refresh token when the client may refresh', async (t) => {
  const { refresh_token } = await login()
  t.match(refresh_token, /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/)
  const confidential = await post(
    '/oauth/token',
    { grant_type: 'password', username: 'alice', password: USER_PASSWORD },
    { authorization: basic('confidential-web', `${SERVICE_SECRET}-web`) },
  )
  t.type(confidential.json().refresh_token, 'string')
})

t.test('a client without the refresh_token grant gets no refresh token and cannot refresh', async (t) => {
  const { app: other } = await testServer(
    {},
    {
      doc: {
        clients: [
          {
            client_id: 'pw-only',
            public: true,
            grant_types: ['password'],
            scopes: ['a'],
            audiences: ['https://api.test'],
          },
        ],
        users: [{ username: 'carol', password: USER_PASSWORD }],
      },
    },
  )
  const res = await other.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'password', client_id: 'pw-only', username: 'carol', password: USER_PASSWORD }),
  })
  t.equal(res.json().refresh_token, undefined)
  const r = await other.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'refresh_token', client_id: 'pw-only', refresh_token: 'x' }),
  })
  t.equal(r.json().error, 'unauthorized_client')
})

t.test('a refresh rotates: new access token, new refresh token, same session', async (t) => {
  const first = await login()
  clock.now += 1000
  const res = await refresh(first.refresh_token)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.not(body.refresh_token, first.refresh_token)
  t.equal(body.refresh_token.split('.').slice(0, 2).join('.'), first.refresh_token.split('.').slice(0, 2).join('.'))
  t.equal(body.scope, 'openid notes:read profile')
  t.type(body.id_token, 'string', 'openid in scope: a fresh ID token')
  const claims = decodeJwt(body.access_token).payload
  t.equal(claims.auth_time, decodeJwt(first.access_token).payload.auth_time, 'auth_time is the login time')
  t.same(claims.roles, ['admin'])
})

t.test('the just-spent token within the grace window answers with the same successor', async (t) => {
  const first = await login()
  const a = (await refresh(first.refresh_token)).json()
  clock.now += 5000
  const b = await refresh(first.refresh_token)
  t.equal(b.statusCode, 200)
  t.equal(b.json().refresh_token, a.refresh_token, 'same successor: the family never forks')
  t.not(b.json().access_token, a.access_token, 'with its own valid access token')
  t.equal((await refresh(a.refresh_token)).statusCode, 200, 'the successor still works')
})

t.test('after the grace window, the spent token is theft: the family is revoked and reported', async (t) => {
  const first = await login()
  const other = await login()
  const second = (await refresh(first.refresh_token)).json()
  clock.now += 11_000
  logs.length = 0
  const stolen = await refresh(first.refresh_token)
  t.equal(stolen.statusCode, 400)
  t.equal(stolen.json().error, 'invalid_grant')
  t.equal((await refresh(second.refresh_token)).json().error, 'invalid_grant', 'the newest token dies too')
  t.equal((await refresh(other.refresh_token)).statusCode, 200, "the user's other session lives on")

  const event = logs.find((l) => l.security_event === 'refresh_token_reuse')
  t.ok(event, 'a security event is logged')
  t.equal(event?.client_id, 'web')
  t.notMatch(JSON.stringify(logs), first.refresh_token.split('.')[2] as string, 'without token material')
  t.equal(reuseEvents.at(-1)?.clientId, 'web', 'the hook saw it')
  const metrics = (await app.inject({ url: '/metrics' })).body
  t.match(metrics, /tollgate_refresh_reuse_detected_total [1-9]/, 'counted (without client labels by default)')
})

t.test('a narrower scope is honoured for that token; a wider one is invalid_scope', async (t) => {
  const first = await login()
  const narrow = await refresh(first.refresh_token, { scope: 'notes:read' })
  t.equal(narrow.statusCode, 200)
  t.equal(narrow.json().scope, 'notes:read')
  t.equal(decodeJwt(narrow.json().access_token).payload.scope, 'notes:read')
  t.equal(narrow.json().id_token, undefined)
  const wider = await refresh(narrow.json().refresh_token, { scope: 'notes:read notes:write' })
  t.equal(wider.statusCode, 400)
  t.equal(wider.json().error, 'invalid_scope')
  const full = await refresh(narrow.json().refresh_token)
  t.equal(full.statusCode, 200, 'the failed attempt spent nothing')
  t.equal(full.json().scope, 'openid notes:read profile', 'the session keeps its original scope')
})

t.test('a refresh token is bound to its client', async (t) => {
  const first = await login()
  const res = await post(
    '/oauth/token',
    { grant_type: 'refresh_token', refresh_token: first.refresh_token },
    { authorization: basic('confidential-web', `${SERVICE_SECRET}-web`) },
  )
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_grant')
  t.equal((await refresh(first.refresh_token)).statusCode, 200)
})

t.test("a disabled user's sessions stop refreshing", async (t) => {
  const first = await login()
  const alice = await store.findUserByUsername('alice')
  await store.putUser({ ...alice!, disabled: true })
  t.teardown(() => store.putUser({ ...alice!, disabled: false }))
  const res = await refresh(first.refresh_token)
  t.equal(res.json().error, 'invalid_grant')
})

t.test('idle expiry: a session unused for REFRESH_IDLE_TTL is gone', async (t) => {
  const first = await login()
  clock.now += 1_209_600_000 + 1
  t.equal((await refresh(first.refresh_token)).json().error, 'invalid_grant')
})

t.test('malformed refresh tokens are invalid_grant', async (t) => {
  for (const token of ['x', 'a.b.c', `${'0'.repeat(36)}.${'a'.repeat(22)}.${'b'.repeat(43)}`]) {
    const res = await refresh(token)
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'invalid_grant')
  }
})

t.test('revocation: a refresh token ends its whole session', async (t) => {
  const first = await login()
  const second = (await refresh(first.refresh_token)).json()
  const res = await post('/oauth/revoke', {
    client_id: 'web',
    token: second.refresh_token,
    token_type_hint: 'refresh_token',
  })
  t.equal(res.statusCode, 200)
  t.equal(res.body, '')
  t.equal((await refresh(second.refresh_token)).json().error, 'invalid_grant')
})

t.test('revocation: an access token is denied until it expires; introspection sees it', async (t) => {
  const token = (
    await post(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('service', SERVICE_SECRET) },
    )
  ).json().access_token
  const introspect = () => post('/oauth/introspect', { token }, { authorization: basic('service', SERVICE_SECRET) })
  t.equal((await introspect()).json().active, true)
  const res = await post('/oauth/revoke', { token }, { authorization: basic('service', SERVICE_SECRET) })
  t.equal(res.statusCode, 200)
  t.same((await introspect()).json(), { active: false })
})

t.test("revocation: unknown tokens get 200; another client's token is refused", async (t) => {
  t.equal((await post('/oauth/revoke', { client_id: 'web', token: 'nonsense' })).statusCode, 200)
  const first = await login()
  const res = await post(
    '/oauth/revoke',
    { token: first.refresh_token },
    { authorization: basic('service', SERVICE_SECRET) },
  )
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'unauthorized_client')
  t.equal((await refresh(first.refresh_token)).statusCode, 200, 'not revoked')
})

t.test('revocation requires client authentication', async (t) => {
  const res = await post('/oauth/revoke', { token: 'x' }, { authorization: basic('service', 'wrong') })
  t.equal(res.statusCode, 401)
  t.equal(res.json().error, 'invalid_client')
})

t.test('introspection: confidential clients only', async (t) => {
  const res = await post('/oauth/introspect', { client_id: 'web', token: 'x' })
  t.equal(res.statusCode, 401)
  t.equal(res.json().error, 'invalid_client')
})

t.test('introspection: an active access token is described, an inactive one is only {active:false}', async (t) => {
  const { access_token } = await login('notes:read')
  const auth = { authorization: basic('service', SERVICE_SECRET) }
  const active = (await post('/oauth/introspect', { token: access_token }, auth)).json()
  t.equal(active.active, true)
  t.equal(active.client_id, 'web')
  t.equal(active.scope, 'notes:read')
  t.equal(active.token_type, 'Bearer')
  t.ok(active.exp > active.iat)
  for (const token of ['garbage', `${access_token.slice(0, -4)}AAAA`]) {
    t.same((await post('/oauth/introspect', { token }, auth)).json(), { active: false })
  }
  clock.now += 310_000
  t.same((await post('/oauth/introspect', { token: access_token }, auth)).json(), { active: false }, 'expired')
})

t.test('introspection: a refresh token is described only to its own client and only while current', async (t) => {
  const { app: a, clock: c } = await testServer()
  const tok = (
    await a.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, authorization: basic('confidential-web', `${SERVICE_SECRET}-web`) },
      payload: form({ grant_type: 'password', username: 'alice', password: USER_PASSWORD, scope: 'notes:read' }),
    })
  ).json().refresh_token
  const ask = (token: string, id: string, secret: string) =>
    a.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { ...FORM, authorization: basic(id, secret) },
      payload: form({ token }),
    })
  const own = (await ask(tok, 'confidential-web', `${SERVICE_SECRET}-web`)).json()
  t.equal(own.active, true)
  t.equal(own.token_type, 'refresh_token')
  t.equal(own.scope, 'notes:read')
  t.same((await ask(tok, 'service', SERVICE_SECRET)).json(), { active: false })
  c.now += 1000
  await a.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, authorization: basic('confidential-web', `${SERVICE_SECRET}-web`) },
    payload: form({ grant_type: 'refresh_token', refresh_token: tok }),
  })
  t.same((await ask(tok, 'confidential-web', `${SERVICE_SECRET}-web`)).json(), { active: false }, 'spent')
})

t.test('metadata advertises revocation and introspection', async (t) => {
  const meta = (await app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
  t.match(meta.revocation_endpoint, /\/oauth\/revoke$/)
  t.match(meta.introspection_endpoint, /\/oauth\/introspect$/)
  t.ok(meta.grant_types_supported.includes('refresh_token'))
})
