import t from 'tap'
import { basic, decodeJwt, form, ISSUER, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const { app, clock } = await testServer({ REFRESH_REUSE_GRACE: '10', COOKIE_SECURE: 'false' })
const ORIGIN = 'https://app.test'

const login = async (headers: Record<string, string> = { origin: ORIGIN }, payload: object = {}) =>
  app.inject({
    method: 'POST',
    url: '/session/login',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0',
      ...headers,
    },
    payload: {
      client_id: 'spa',
      username: 'alice',
      password: USER_PASSWORD,
      scope: 'openid profile notes:read',
      ...payload,
    },
  })
const cookieOf = (res: Awaited<ReturnType<typeof login>>) => res.cookies.find((c) => c.name === 'tg_session')
const withCookie = (value: string, origin = ORIGIN) => ({ cookie: `tg_session=${value}`, origin })
const refresh = (value: string, origin = ORIGIN) =>
  app.inject({ method: 'POST', url: '/session/refresh', headers: withCookie(value, origin) })

t.test('login: tokens in the body, the refresh token only in an HttpOnly SameSite=Strict cookie', async (t) => {
  const res = await login()
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'id_token', 'scope', 'token_type'])
  t.notOk('refresh_token' in body)
  const cookie = cookieOf(res)
  t.ok(cookie)
  t.equal(cookie?.httpOnly, true)
  t.equal(cookie?.sameSite, 'Strict')
  t.equal(cookie?.path, '/session')
  t.equal(cookie?.domain, undefined)
  t.equal(cookie?.secure, undefined, 'COOKIE_SECURE=false: no Secure flag')
})

t.test('over HTTPS the cookie is Secure with the __Secure- prefix', async (t) => {
  const { app: secure } = await testServer({ COOKIE_SECURE: 'true' })
  const res = await secure.inject({
    method: 'POST',
    url: '/session/login',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    payload: { client_id: 'spa', username: 'alice', password: USER_PASSWORD },
  })
  const cookie = res.cookies.find((c) => c.name === '__Secure-tg_session')
  t.ok(cookie)
  t.equal(cookie?.secure, true)
  t.match(
    res.headers['set-cookie'],
    /^__Secure-tg_session=[^;]+; Max-Age=\d+; Path=\/session; HttpOnly; Secure; SameSite=Strict$/,
  )
})

t.test('login from an origin the client does not allow, or none, is refused', async (t) => {
  for (const headers of [{ origin: 'https://evil.test' }, { origin: 'https://app.test.evil.test' }, {}]) {
    const res = await login(headers as Record<string, string>)
    t.equal(res.statusCode, 403)
    t.equal(res.json().error, 'access_denied')
    t.notOk(cookieOf(res))
  }
})

t.test('login errors: bad credentials and bad input are RFC-shaped, never 500', async (t) => {
  const bad = await login({ origin: ORIGIN }, { password: 'wrong' })
  t.equal(bad.statusCode, 400)
  t.same(bad.json(), { error: 'invalid_grant', error_description: 'invalid username or password' })
  const missing = await app.inject({
    method: 'POST',
    url: '/session/login',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    payload: { client_id: 'spa' },
  })
  t.equal(missing.statusCode, 400)
  t.equal(missing.json().error, 'invalid_request')
  const broken = await app.inject({
    method: 'POST',
    url: '/session/login',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    payload: '{"client_id":',
  })
  t.equal(broken.statusCode, 400)
  t.equal(broken.json().error, 'invalid_request')
})

t.test('refresh rotates the cookie and returns a new access token', async (t) => {
  const first = cookieOf(await login())!
  clock.now += 1000
  const res = await refresh(first.value)
  t.equal(res.statusCode, 200)
  const next = cookieOf(res)!
  t.not(next.value, first.value)
  t.equal(next.httpOnly, true)
  t.notOk('refresh_token' in res.json())
  t.equal(decodeJwt(res.json().access_token).payload.client_id, 'spa')
})

t.test('two tabs refreshing with the same cookie both stay signed in on one lineage', async (t) => {
  const cookie = cookieOf(await login())!.value
  const [a, b] = await Promise.all([refresh(cookie), refresh(cookie)])
  t.equal(a.statusCode, 200)
  t.equal(b.statusCode, 200)
  t.equal(cookieOf(a)?.value, cookieOf(b)?.value, 'the same successor cookie')
  t.equal((await refresh(cookieOf(a)!.value)).statusCode, 200)
})

t.test('refresh refuses a cross-site or wrong-origin request', async (t) => {
  const cookie = cookieOf(await login())!.value
  for (const origin of ['https://evil.test', '']) {
    const res = await refresh(cookie, origin)
    t.equal(res.statusCode, 403)
  }
  t.equal((await refresh(cookie)).statusCode, 200, 'the session is untouched')
})

t.test('refresh without a session cookie, or with a dead one, clears it', async (t) => {
  const none = await app.inject({ method: 'POST', url: '/session/refresh', headers: { origin: ORIGIN } })
  t.equal(none.statusCode, 400)
  t.equal(none.json().error, 'invalid_grant')
  const junk = await refresh('c3Bh.not-a-token')
  t.equal(junk.statusCode, 400)
  t.match(junk.headers['set-cookie'], /tg_session=; Max-Age=0/)
})

t.test('logout ends that session and clears the cookie', async (t) => {
  const cookie = cookieOf(await login())!.value
  const res = await app.inject({ method: 'POST', url: '/session/logout', headers: withCookie(cookie) })
  t.equal(res.statusCode, 204)
  t.match(res.headers['set-cookie'], /tg_session=; Max-Age=0/)
  t.equal((await refresh(cookie)).statusCode, 400)
})

t.test('logout from a foreign origin is refused (no CSRF logout)', async (t) => {
  const cookie = cookieOf(await login())!.value
  const res = await app.inject({
    method: 'POST',
    url: '/session/logout',
    headers: withCookie(cookie, 'https://evil.test'),
  })
  t.equal(res.statusCode, 403)
  t.equal((await refresh(cookie)).statusCode, 200)
})

t.test('sessions are listed without token material, the current one marked', async (t) => {
  const { app: a } = await testServer({ COOKIE_SECURE: 'false' })
  const doLogin = (ua: string) =>
    a.inject({
      method: 'POST',
      url: '/session/login',
      headers: { 'content-type': 'application/json', origin: ORIGIN, 'user-agent': ua },
      payload: { client_id: 'spa', username: 'alice', password: USER_PASSWORD },
    })
  const one = await doLogin('Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0')
  const two = await doLogin('Mozilla/5.0 (Windows NT 10.0; rv:133.0) Gecko/20100101 Firefox/133.0')
  const pw = await a.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'password', client_id: 'web', username: 'alice', password: USER_PASSWORD }),
  })
  const token = two.json().access_token
  const cookie = two.cookies.find((c) => c.name === 'tg_session')!.value
  const res = await a.inject({
    url: '/session',
    headers: { authorization: `Bearer ${token}`, cookie: `tg_session=${cookie}` },
  })
  t.equal(res.statusCode, 200)
  const list = res.json() as Record<string, unknown>[]
  t.equal(list.length, 3)
  t.same(Object.keys(list[0]!).sort(), ['client_id', 'created_at', 'current', 'id', 'last_used_at', 'user_agent'])
  t.same(
    list.map((s) => [s.client_id, s.user_agent, s.current]),
    [
      ['spa', 'Chrome 131 on Linux', false],
      ['spa', 'Firefox 133 on Windows', true],
      ['web', 'lightMyRequest', false],
    ],
  )
  const text = JSON.stringify(list)
  for (const secret of [cookie, one.cookies[0]!.value, pw.json().refresh_token]) {
    t.notMatch(text, (secret.split('.').pop() as string).slice(0, 16))
  }
})

t.test("DELETE /session/:id ends one of the caller's own sessions only", async (t) => {
  const { app: a } = await testServer({ COOKIE_SECURE: 'false' })
  const doLogin = (username: string) =>
    a.inject({
      method: 'POST',
      url: '/session/login',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      payload: { client_id: 'spa', username, password: USER_PASSWORD },
    })
  const first = await doLogin('alice')
  const second = await doLogin('alice')
  const auth = { authorization: `Bearer ${second.json().access_token}` }
  const list = (await a.inject({ url: '/session', headers: auth })).json() as { id: string }[]
  const del = await a.inject({ method: 'DELETE', url: `/session/${list[0]!.id}`, headers: auth })
  t.equal(del.statusCode, 204)
  const after = (await a.inject({ url: '/session', headers: auth })).json() as { id: string }[]
  t.same(
    after.map((s) => s.id),
    [list[1]!.id],
  )
  const firstRefresh = await a.inject({
    method: 'POST',
    url: '/session/refresh',
    headers: { origin: ORIGIN, cookie: `tg_session=${first.cookies[0]!.value}` },
  })
  t.equal(firstRefresh.statusCode, 400, 'the ended session cannot refresh')
  t.equal((await a.inject({ method: 'DELETE', url: `/session/${list[0]!.id}`, headers: auth })).statusCode, 404)
  t.equal((await a.inject({ method: 'DELETE', url: '/session/not-mine', headers: auth })).statusCode, 404)
})

t.test('logout-all ends every session of the user, password-grant sessions included', async (t) => {
  const { app: a } = await testServer({ COOKIE_SECURE: 'false' })
  const browser = await a.inject({
    method: 'POST',
    url: '/session/login',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    payload: { client_id: 'spa', username: 'alice', password: USER_PASSWORD },
  })
  const pw = (
    await a.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ grant_type: 'password', client_id: 'web', username: 'alice', password: USER_PASSWORD }),
    })
  ).json()
  const res = await a.inject({
    method: 'POST',
    url: '/session/logout-all',
    headers: { authorization: `Bearer ${browser.json().access_token}` },
  })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { ended: 2 })
  const again = await a.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: pw.refresh_token }),
  })
  t.equal(again.json().error, 'invalid_grant')
})

t.test('session management needs a user access token of this server', async (t) => {
  const none = await app.inject({ url: '/session' })
  t.equal(none.statusCode, 401)
  t.equal(
    none.headers['www-authenticate'],
    `Bearer realm="${ISSUER}", DPoP realm="${ISSUER}", algs="ES256 ES384 EdDSA Ed25519 RS256 PS256"`,
    'a bare Bearer challenge, and DPoP offered beside it',
  )
  const junk = await app.inject({ url: '/session', headers: { authorization: 'Bearer x.y.z' } })
  t.equal(junk.statusCode, 401)
  t.match(junk.headers['www-authenticate'], /error="invalid_token"/)
  const service = (
    await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('service', SERVICE_SECRET) },
      payload: form({ grant_type: 'client_credentials' }),
    })
  ).json().access_token
  const svc = await app.inject({ url: '/session', headers: { authorization: `Bearer ${service}` } })
  t.equal(svc.statusCode, 401, 'a service token is not a user')
  const id = (await login()).json().id_token
  t.equal(
    (await app.inject({ url: '/session', headers: { authorization: `Bearer ${id}` } })).statusCode,
    401,
    'nor is an ID token',
  )
})

t.test('userinfo: claims as the scopes allow; openid required', async (t) => {
  const token = (await login()).json().access_token
  const res = await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: decodeJwt(token).payload.sub, name: 'Alice', preferred_username: 'alice' })
  const post = await app.inject({ method: 'POST', url: '/userinfo', headers: { authorization: `Bearer ${token}` } })
  t.equal(post.statusCode, 200)
  const noOpenid = (await login({ origin: ORIGIN }, { scope: 'notes:read' })).json().access_token
  const denied = await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${noOpenid}` } })
  t.equal(denied.statusCode, 403)
  t.match(denied.headers['www-authenticate'], /error="insufficient_scope", .*scope="openid"/)
  const idToken = (await login()).json().id_token
  t.equal((await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${idToken}` } })).statusCode, 401)
})

t.test('CORS: allowed origins get credentials on session endpoints; others get nothing', async (t) => {
  const pre = await app.inject({
    method: 'OPTIONS',
    url: '/session/login',
    headers: {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  })
  t.equal(pre.headers['access-control-allow-origin'], ORIGIN)
  t.equal(pre.headers['access-control-allow-credentials'], 'true')
  const evil = await app.inject({
    method: 'OPTIONS',
    url: '/session/login',
    headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
  })
  t.notOk(evil.headers['access-control-allow-origin'])
  const token = await app.inject({
    method: 'OPTIONS',
    url: '/oauth/token',
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
  })
  t.equal(token.headers['access-control-allow-origin'], ORIGIN)
  t.notOk(token.headers['access-control-allow-credentials'])
  const jwks = await app.inject({ url: '/.well-known/jwks.json', headers: { origin: 'https://anyone.test' } })
  t.equal(jwks.headers['access-control-allow-origin'], '*')
})

t.test('CORS on actual session requests: credentials only for the origins of the session’s own client', async (t) => {
  const { app: two } = await testServer(
    { COOKIE_SECURE: 'false' },
    {
      doc: {
        clients: [
          {
            client_id: 'mail',
            public: true,
            grant_types: ['password', 'refresh_token'],
            scopes: ['openid'],
            audiences: ['https://api.test'],
            allowed_origins: ['https://mail.test'],
          },
          {
            client_id: 'chat',
            public: true,
            grant_types: ['password', 'refresh_token'],
            scopes: ['openid'],
            audiences: ['https://api.test'],
            allowed_origins: ['https://chat.test'],
          },
        ],
        users: [{ username: 'carol', password: USER_PASSWORD }],
      },
    },
  )
  const signIn = await two.inject({
    method: 'POST',
    url: '/session/login',
    headers: { 'content-type': 'application/json', origin: 'https://mail.test' },
    payload: { client_id: 'mail', username: 'carol', password: USER_PASSWORD },
  })
  t.equal(signIn.statusCode, 200)
  t.equal(signIn.headers['access-control-allow-origin'], 'https://mail.test', 'its own client’s page reads it')
  t.equal(signIn.headers['access-control-allow-credentials'], 'true')
  const bearer = { authorization: `Bearer ${signIn.json().access_token}` }
  const own = await two.inject({ url: '/session', headers: { ...bearer, origin: 'https://mail.test' } })
  t.equal(own.headers['access-control-allow-origin'], 'https://mail.test')
  const other = await two.inject({ url: '/session', headers: { ...bearer, origin: 'https://chat.test' } })
  t.equal(other.statusCode, 200, 'the bearer call itself works')
  t.notOk(other.headers['access-control-allow-origin'], 'but another client’s page may not read mail’s sessions')
  const cookie = signIn.cookies.find((c) => c.name === 'tg_session')
  const refresh = await two.inject({
    method: 'POST',
    url: '/session/refresh',
    headers: { origin: 'https://chat.test' },
    cookies: { tg_session: cookie?.value as string },
  })
  t.equal(refresh.statusCode, 403, 'the route refuses the other origin')
  t.notOk(refresh.headers['access-control-allow-origin'], 'and CORS agrees')
})
