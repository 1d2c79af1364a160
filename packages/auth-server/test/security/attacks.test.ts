// Attack catalogue, auth-server side: each one refused with the right protocol error, never a 5xx.
import { createHash, randomBytes } from 'node:crypto'
import { generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { basic, form, ISSUER, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const { app } = await testServer({ COOKIE_SECURE: 'false' })
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const REDIRECT = 'https://app.test/callback'
const verifier = randomBytes(32).toString('base64url')
const challenge = createHash('sha256').update(verifier).digest('base64url')

const authorizeQuery = (extra: Record<string, string> = {}) =>
  new URLSearchParams({
    response_type: 'code',
    client_id: 'spa',
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 's',
    ...extra,
  }).toString()

async function codeFor(query = authorizeQuery()): Promise<string> {
  const page = await app.inject({ url: `/oauth/authorize?${query}` })
  const csrf = page.cookies.find((c) => c.name === 'tg_authz_csrf')?.value as string
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { ...FORM, cookie: `tg_authz_csrf=${csrf}` },
    payload: `${query}&csrf=${csrf}&username=alice&password=${encodeURIComponent(USER_PASSWORD)}`,
  })
  return new URL(res.headers.location as string).searchParams.get('code') as string
}
const exchange = (code: string, codeVerifier = verifier, extra: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      redirect_uri: REDIRECT,
      code_verifier: codeVerifier,
      ...extra,
    }),
  })

t.test('PKCE downgrade: the challenge itself as a "plain" verifier is refused', async (t) => {
  const res = await exchange(await codeFor(), challenge)
  t.equal(res.json().error, 'invalid_grant')
})

t.test('PKCE downgrade: asking for plain, or no PKCE, never yields a code', async (t) => {
  for (const query of [
    authorizeQuery({ code_challenge_method: 'plain', code_challenge: verifier }),
    authorizeQuery({ code_challenge: '' }),
  ]) {
    const res = await app.inject({ url: `/oauth/authorize?${query}` })
    const location = new URL(res.headers.location as string)
    t.equal(location.searchParams.get('error'), 'invalid_request')
    t.notOk(location.searchParams.get('code'))
  }
})

t.test('PKCE: a missing verifier at the exchange is refused', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({
      grant_type: 'authorization_code',
      client_id: 'spa',
      code: await codeFor(),
      redirect_uri: REDIRECT,
    }),
  })
  t.equal(res.json().error, 'invalid_request')
})

t.test('redirect_uri tricks are an error page, never a redirect', async (t) => {
  for (const uri of [
    'https://app.test@evil.test/callback',
    'https://app.test/callback/../../evil',
    'https://app.test/callback%2F..%2Fevil',
    'http://app.test/callback',
    'https://app.test:443/callback',
    'https://app.test/callback#frag',
    'https://app.test/Callback',
    'https://app.test/callback?next=https://evil.test',
    '//evil.test/callback',
    'javascript:alert(1)',
    'https://app.test/callback\u0000',
  ]) {
    const res = await app.inject({ url: `/oauth/authorize?${authorizeQuery({ redirect_uri: uri })}` })
    t.equal(res.statusCode, 400, uri)
    t.notOk(res.headers.location, `${uri}: no Location`)
  }
})

t.test('redirect_uri at the exchange must be the one authorised', async (t) => {
  const res = await exchange(await codeFor(), verifier, { redirect_uri: 'https://app.test/other' })
  t.equal(res.json().error, 'invalid_grant')
})

t.test('code replay revokes the tokens of the first exchange', async (t) => {
  const code = await codeFor()
  const first = await exchange(code)
  t.equal(first.statusCode, 200)
  t.equal((await exchange(code)).json().error, 'invalid_grant')
  const refresh = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first.json().refresh_token }),
  })
  t.equal(refresh.json().error, 'invalid_grant')
})

t.test('a code issued to one client is useless at another', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({
      grant_type: 'authorization_code',
      client_id: 'web',
      code: await codeFor(),
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    }),
  })
  t.equal(res.statusCode, 400)
  t.match(res.json().error, /^(invalid_grant|unauthorized_client)$/)
})

t.test('a refresh token of one client presented by another', async (t) => {
  const login = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'password', client_id: 'web', username: 'alice', password: USER_PASSWORD }),
  })
  const stolen = login.json().refresh_token
  for (const [headers, body] of [
    [{ authorization: basic('confidential-web', `${SERVICE_SECRET}-web`) }, {}],
    [{}, { client_id: 'spa' }],
  ] as [Record<string, string>, Record<string, string>][]) {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, ...headers },
      payload: form({ grant_type: 'refresh_token', refresh_token: stolen, ...body }),
    })
    t.equal(res.json().error, 'invalid_grant')
  }
  const own = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: stolen }),
  })
  t.equal(own.statusCode, 200, 'the rightful client still can')
})

t.test('cross-site requests to the session endpoints without a valid Origin', async (t) => {
  const login = await app.inject({
    method: 'POST',
    url: '/session/login',
    headers: { 'content-type': 'application/json', origin: 'https://app.test' },
    payload: { client_id: 'spa', username: 'alice', password: USER_PASSWORD },
  })
  const cookie = `tg_session=${login.cookies.find((c) => c.name === 'tg_session')?.value}`
  for (const origin of [
    undefined,
    'null',
    'https://evil.test',
    'https://app.test.evil.test',
    'https://app.test/',
    'http://app.test',
    'https://APP.test',
  ]) {
    for (const url of ['/session/refresh', '/session/logout']) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { cookie, ...(origin === undefined ? {} : { origin }) },
      })
      t.equal(res.statusCode, 403, `${url} from ${origin}`)
      t.equal(res.json().error, 'access_denied')
    }
    const loginAttempt = await app.inject({
      method: 'POST',
      url: '/session/login',
      headers: { 'content-type': 'application/json', ...(origin === undefined ? {} : { origin }) },
      payload: { client_id: 'spa', username: 'alice', password: USER_PASSWORD },
    })
    t.equal(loginAttempt.statusCode, 403, `login from ${origin}`)
  }
  const still = await app.inject({
    method: 'POST',
    url: '/session/refresh',
    headers: { cookie, origin: 'https://app.test' },
  })
  t.equal(still.statusCode, 200, 'the session survived every attempt')
})

t.test('form-encoded or text bodies cannot reach the JSON session login (no simple-request CSRF)', async (t) => {
  for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
    const res = await app.inject({
      method: 'POST',
      url: '/session/login',
      headers: { 'content-type': type, origin: 'https://app.test' },
      payload: 'client_id=spa&username=alice',
    })
    t.ok(res.statusCode === 415 || res.statusCode === 400, `${type}: ${res.statusCode}`)
  }
})

t.test('tokens forged with another key or issuer are inactive at introspection and refused at userinfo', async (t) => {
  const { privateKey } = await generateKeyPair('RS256')
  const now = Math.floor(Date.now() / 1000)
  const forged = await new SignJWT({
    iss: ISSUER,
    sub: 'x',
    aud: 'https://api.test',
    exp: now + 60,
    iat: now,
    jti: 'j',
    client_id: 'web',
    scope: 'openid',
    auth_time: now,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'forged', jku: 'https://evil.test/jwks' })
    .sign(privateKey)
  const intro = await app.inject({
    method: 'POST',
    url: '/oauth/introspect',
    headers: { ...FORM, authorization: basic('service', SERVICE_SECRET) },
    payload: form({ token: forged }),
  })
  t.same(intro.json(), { active: false })
  t.equal((await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${forged}` } })).statusCode, 401)
})

t.test('client authentication tricks', async (t) => {
  const cases: [string, Record<string, string>, Record<string, string>][] = [
    ['empty secret', { authorization: basic('service', '') }, {}],
    ['secret prefix', { authorization: basic('service', SERVICE_SECRET.slice(0, -1)) }, {}],
    ['secret with a suffix', { authorization: basic('service', `${SERVICE_SECRET}x`) }, {}],
    ['public client claiming a secret', { authorization: basic('web', 'anything') }, {}],
    [
      'client_id mismatch between header and body',
      { authorization: basic('service', SERVICE_SECRET) },
      { client_id: 'web' },
    ],
    ['Basic without a colon', { authorization: `Basic ${Buffer.from('service').toString('base64')}` }, {}],
    [
      'Basic with invalid percent-encoding',
      { authorization: `Basic ${Buffer.from('service:%zz').toString('base64')}` },
      {},
    ],
  ]
  for (const [name, headers, body] of cases) {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, ...headers },
      payload: form({ grant_type: 'client_credentials', ...body }),
    })
    t.ok([400, 401].includes(res.statusCode), `${name}: ${res.statusCode}`)
    t.match(res.json().error, /^(invalid_client|invalid_request)$/, name)
  }
})
