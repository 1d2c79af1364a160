import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { basic, decodeJwt, form, ISSUER, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const { app, clock } = await testServer()
const verifier = randomBytes(32).toString('base64url')
const challenge = createHash('sha256').update(verifier).digest('base64url')
const REDIRECT = 'https://app.test/callback'

const authorizeQuery = (overrides: Record<string, string | undefined> = {}) => {
  const params: Record<string, string> = {}
  const all = {
    response_type: 'code',
    client_id: 'spa',
    redirect_uri: REDIRECT,
    scope: 'openid profile notes:read',
    state: 'st-123',
    nonce: 'n-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  }
  for (const [k, v] of Object.entries(all)) if (v !== undefined) params[k] = v
  return new URLSearchParams(params).toString()
}

const hiddenFields = (html: string) => {
  const out: Record<string, string> = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1] as string] = (m[2] as string).replace(/&amp;/g, '&').replace(/&quot;/g, '"')
  }
  return out
}

/** Opens the sign-in page and submits it, like a browser. */
async function signIn(query = authorizeQuery(), password = USER_PASSWORD) {
  const page = await app.inject({ url: `/oauth/authorize?${query}` })
  const cookie = page.cookies.find((c) => c.name === 'tg_authz_csrf')
  const fields = hiddenFields(page.body)
  return app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tg_authz_csrf=${cookie?.value}` },
    payload: form({ ...fields, username: 'alice', password }),
  })
}

const exchange = (code: string, extra: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      ...extra,
    }),
  })

t.test('the sign-in page: accessible form, strict headers, no external assets', async (t) => {
  const res = await app.inject({ url: `/oauth/authorize?${authorizeQuery()}` })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.headers['content-security-policy'], /default-src 'none'/)
  t.match(res.headers['content-security-policy'], /form-action 'self' https:\/\/app\.test/)
  t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.match(res.body, /<label for="username">/)
  t.match(res.body, /<label for="password">/)
  t.match(res.body, /autocomplete="current-password"/)
  t.match(res.body, /Notes SPA/)
  t.notMatch(res.body, /<script|https?:\/\/(?!app\.test)[^"]*\.(js|css)/)
  const csrf = res.cookies.find((c) => c.name === 'tg_authz_csrf')
  t.ok(csrf?.httpOnly)
  t.equal(csrf?.sameSite, 'Strict')
})

t.test('code + PKCE: sign in, redirect with code, state and iss; exchange for tokens', async (t) => {
  const res = await signIn()
  t.equal(res.statusCode, 303)
  const location = new URL(res.headers.location as string)
  t.equal(`${location.origin}${location.pathname}`, REDIRECT)
  t.equal(location.searchParams.get('state'), 'st-123')
  t.equal(location.searchParams.get('iss'), ISSUER)
  const code = location.searchParams.get('code') as string
  t.match(code, /^[A-Za-z0-9_-]{43}$/)
  const tokens = await exchange(code)
  t.equal(tokens.statusCode, 200)
  const body = tokens.json()
  t.type(body.refresh_token, 'string')
  t.equal(body.scope, 'openid profile notes:read')
  const id = decodeJwt(body.id_token).payload
  t.equal(id.nonce, 'n-456')
  t.equal(id.aud, 'spa')
  t.equal(id.name, 'Alice')
  t.equal(decodeJwt(body.access_token).payload.client_id, 'spa')
})

t.test('a code is single-use; its reuse revokes what it issued', async (t) => {
  const code = new URL((await signIn()).headers.location as string).searchParams.get('code') as string
  const first = (await exchange(code)).json()
  const again = await exchange(code)
  t.equal(again.statusCode, 400)
  t.equal(again.json().error, 'invalid_grant')
  const refresh = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: first.refresh_token }),
  })
  t.equal(refresh.json().error, 'invalid_grant', 'the session it started is gone')
  const introspect = await app.inject({
    method: 'POST',
    url: '/oauth/introspect',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('service', SERVICE_SECRET) },
    payload: form({ token: first.access_token }),
  })
  t.same(introspect.json(), { active: false }, 'and its access token is revoked')
})

t.test('the exchange checks verifier, redirect_uri, client and expiry', async (t) => {
  const codeFor = async () => new URL((await signIn()).headers.location as string).searchParams.get('code') as string
  t.equal(
    (await exchange(await codeFor(), { code_verifier: randomBytes(32).toString('base64url') })).json().error,
    'invalid_grant',
  )
  t.equal((await exchange(await codeFor(), { redirect_uri: 'https://app.test/other' })).json().error, 'invalid_grant')
  const stolen = await codeFor()
  const other = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic('confidential-web', `${SERVICE_SECRET}-web`),
    },
    payload: form({ grant_type: 'authorization_code', code: stolen, redirect_uri: REDIRECT, code_verifier: verifier }),
  })
  t.equal(other.json().error, 'unauthorized_client', 'a client without the grant cannot even try')
  const late = await codeFor()
  clock.now += 61_000
  t.equal((await exchange(late)).json().error, 'invalid_grant', 'codes expire after 60 s')
})

t.test('wrong password: the page again, with a generic error and no redirect', async (t) => {
  const res = await signIn(authorizeQuery(), 'wrong password')
  t.equal(res.statusCode, 401)
  t.match(res.body, /role="alert"[^>]*>Invalid username or password</)
  t.notOk(res.headers.location)
})

t.test('a forged form post without the CSRF cookie is refused', async (t) => {
  const page = await app.inject({ url: `/oauth/authorize?${authorizeQuery()}` })
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ ...hiddenFields(page.body), username: 'alice', password: USER_PASSWORD }),
  })
  t.equal(res.statusCode, 403)
  t.notOk(res.headers.location)
})

t.test('an unknown client or redirect_uri is an error page, never a redirect', async (t) => {
  for (const overrides of [
    { client_id: 'nobody' },
    { client_id: undefined },
    { redirect_uri: 'https://evil.test/callback' },
    { redirect_uri: 'https://app.test/callback/' },
    { redirect_uri: 'https://app.test/callback?x=1' },
    { redirect_uri: 'https://APP.test/callback' },
    { redirect_uri: 'https://app.test.evil.test/callback' },
    { redirect_uri: undefined },
  ]) {
    const res = await app.inject({ url: `/oauth/authorize?${authorizeQuery(overrides)}` })
    t.equal(res.statusCode, 400, JSON.stringify(overrides))
    t.notOk(res.headers.location)
    t.match(res.body, /cannot be used/)
  }
})

t.test('other errors go back to the client with state (RFC 6749 §4.1.2.1)', async (t) => {
  const cases: [Record<string, string | undefined>, string][] = [
    [{ response_type: 'token' }, 'unsupported_response_type'],
    [{ code_challenge: undefined }, 'invalid_request'],
    [{ code_challenge_method: 'plain' }, 'invalid_request'],
    [{ code_challenge_method: undefined }, 'invalid_request'],
    [{ code_challenge: 'short' }, 'invalid_request'],
    [{ scope: 'openid admin' }, 'invalid_scope'],
    [{ resource: 'https://evil.test' }, 'invalid_target'],
  ]
  for (const [overrides, error] of cases) {
    const res = await app.inject({ url: `/oauth/authorize?${authorizeQuery(overrides)}` })
    t.equal(res.statusCode, 303, JSON.stringify(overrides))
    const location = new URL(res.headers.location as string)
    t.equal(`${location.origin}${location.pathname}`, REDIRECT)
    t.equal(location.searchParams.get('error'), error)
    t.equal(location.searchParams.get('state'), 'st-123')
    t.equal(location.searchParams.get('iss'), ISSUER)
  }
})

t.test('a client without the authorization_code grant is told so at its redirect', async (t) => {
  const { app: a } = await testServer(
    {},
    {
      doc: {
        clients: [
          {
            client_id: 'pw',
            public: true,
            grant_types: ['password'],
            scopes: ['a'],
            audiences: ['https://api.test'],
            redirect_uris: [REDIRECT],
          },
        ],
      },
    },
  )
  const res = await a.inject({ url: `/oauth/authorize?${authorizeQuery({ client_id: 'pw', scope: 'a' })}` })
  t.equal(new URL(res.headers.location as string).searchParams.get('error'), 'unauthorized_client')
})

t.test('metadata advertises the code flow', async (t) => {
  const meta = (await app.inject({ url: '/.well-known/openid-configuration' })).json()
  t.equal(meta.authorization_endpoint, `${ISSUER}/oauth/authorize`)
  t.same(meta.response_types_supported, ['code'])
  t.same(meta.code_challenge_methods_supported, ['S256'])
  t.equal(meta.userinfo_endpoint, `${ISSUER}/userinfo`)
  t.ok(meta.grant_types_supported.includes('authorization_code'))
})
