// RFC 9126 pushed authorization requests and RFC 9207 at the HTTP surface: push, use once within 60 s, validated as
// /oauth/authorize would, required per client or for the server, `iss` on every authorization response.
import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { basic, bootstrapDoc, form, ISSUER, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const REDIRECT = 'https://app.test/callback'
const PAR_SECRET = `${SERVICE_SECRET}-par`
const doc = {
  ...bootstrapDoc,
  clients: [
    ...(bootstrapDoc.clients ?? []),
    {
      client_id: 'par-only',
      client_secret: PAR_SECRET,
      grant_types: ['authorization_code'],
      scopes: ['openid', 'notes:read'],
      audiences: ['https://api.test'],
      redirect_uris: [REDIRECT],
      require_pushed_authorization_requests: true,
    },
  ],
}
const { app, clock } = await testServer({}, { doc })
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const verifier = randomBytes(32).toString('base64url')
const challenge = createHash('sha256').update(verifier).digest('base64url')
const request = (overrides: Record<string, string> = {}) => ({
  response_type: 'code',
  redirect_uri: REDIRECT,
  scope: 'openid notes:read',
  state: 'st-1',
  code_challenge: challenge,
  code_challenge_method: 'S256',
  ...overrides,
})
const push = (fields: Record<string, string>, client = 'par-only', secret = PAR_SECRET) =>
  app.inject({
    method: 'POST',
    url: '/oauth/par',
    headers: { ...FORM, authorization: basic(client, secret) },
    payload: form(fields),
  })
const hidden = (html: string) => {
  const out: Record<string, string> = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1] as string] = (m[2] as string).replace(/&amp;/g, '&').replace(/&quot;/g, '"')
  }
  return out
}
async function signInWith(query: string) {
  const page = await app.inject({ url: `/oauth/authorize?${query}` })
  if (page.statusCode !== 200) return page
  const cookie = `tg_authz_csrf=${page.cookies.find((c) => c.name === 'tg_authz_csrf')?.value}`
  return app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { ...FORM, cookie },
    payload: form({ ...hidden(page.body), username: 'alice', password: USER_PASSWORD }),
  })
}

t.test('push, then sign in with only client_id and request_uri: a code, with iss', async (t) => {
  const pushed = await push(request())
  t.equal(pushed.statusCode, 201)
  t.equal(pushed.headers['cache-control'], 'no-store')
  const { request_uri, expires_in } = pushed.json()
  t.match(request_uri, /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/)
  t.equal(expires_in, 60)
  const done = await signInWith(new URLSearchParams({ client_id: 'par-only', request_uri }).toString())
  t.equal(done.statusCode, 303)
  const location = new URL(done.headers.location as string)
  t.ok(location.searchParams.get('code'))
  t.equal(location.searchParams.get('state'), 'st-1')
  t.equal(location.searchParams.get('iss'), ISSUER, 'RFC 9207')
  const token = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, authorization: basic('par-only', PAR_SECRET) },
    payload: form({
      grant_type: 'authorization_code',
      code: location.searchParams.get('code') as string,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    }),
  })
  t.equal(token.statusCode, 200)
})

t.test('a request_uri is used once, expires after 60 s, and belongs to its client', async (t) => {
  const { request_uri } = (await push(request())).json()
  const query = new URLSearchParams({ client_id: 'par-only', request_uri }).toString()
  t.equal((await app.inject({ url: `/oauth/authorize?${query}` })).statusCode, 200)
  const again = await app.inject({ url: `/oauth/authorize?${query}` })
  t.equal(again.statusCode, 400, 'used once')
  t.match(again.body, /expired or was already used/)
  const late = (await push(request())).json().request_uri
  clock.now += 61_000
  t.equal((await app.inject({ url: `/oauth/authorize?client_id=par-only&request_uri=${late}` })).statusCode, 400)
  const mine = (await push(request())).json().request_uri
  t.equal(
    (await app.inject({ url: `/oauth/authorize?client_id=spa&request_uri=${mine}` })).statusCode,
    400,
    'another client',
  )
  t.equal(
    (await app.inject({ url: `/oauth/authorize?client_id=par-only&request_uri=${mine}` })).statusCode,
    200,
    '…which burned nothing',
  )
})

t.test('a pushed request is validated as /oauth/authorize would, with JSON errors', async (t) => {
  const bad = await push(request({ redirect_uri: 'https://evil.test/cb' }))
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error, 'invalid_request')
  t.equal((await push(request({ scope: 'admin' }))).json().error, 'invalid_scope')
  t.equal((await push(request({ code_challenge_method: 'plain' }))).json().error, 'invalid_request')
  t.equal((await push({ ...request(), request_uri: 'urn:x' })).json().error, 'invalid_request')
  const unauth = await push(request(), 'par-only', 'wrong-secret-0123456789abcdef0123456789')
  t.equal(unauth.statusCode, 401)
  t.equal(unauth.json().error, 'invalid_client')
})

t.test('the sealed request cannot be changed on the way through the form', async (t) => {
  const { request_uri } = (await push(request())).json()
  const page = await app.inject({ url: `/oauth/authorize?client_id=par-only&request_uri=${request_uri}` })
  const cookie = `tg_authz_csrf=${page.cookies.find((c) => c.name === 'tg_authz_csrf')?.value}`
  const fields = hidden(page.body)
  t.ok(fields.request, 'the form carries the sealed request')
  t.notOk(fields.redirect_uri, 'and not the parameters themselves')
  const tampered = `${fields.request?.slice(0, -2)}AA`
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { ...FORM, cookie },
    payload: form({ ...fields, request: tampered, username: 'alice', password: USER_PASSWORD }),
  })
  t.equal(res.statusCode, 400)
})

t.test('a client that must use PAR is refused without it, with an error redirect carrying iss', async (t) => {
  const query = new URLSearchParams({ client_id: 'par-only', ...request() }).toString()
  const res = await app.inject({ url: `/oauth/authorize?${query}` })
  t.equal(res.statusCode, 303)
  const location = new URL(res.headers.location as string)
  t.equal(location.searchParams.get('error'), 'invalid_request')
  t.equal(location.searchParams.get('state'), 'st-1')
  t.equal(location.searchParams.get('iss'), ISSUER, 'RFC 9207: iss on error responses too')
})

t.test('REQUIRE_PAR=true requires it of every client; metadata says so', async (t) => {
  const strict = await testServer({ REQUIRE_PAR: 'true' })
  const query = new URLSearchParams({
    client_id: 'spa',
    response_type: 'code',
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString()
  const res = await strict.app.inject({ url: `/oauth/authorize?${query}` })
  t.equal(new URL(res.headers.location as string).searchParams.get('error'), 'invalid_request')
  const meta = (await strict.app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
  t.equal(meta.require_pushed_authorization_requests, true)
  t.equal(meta.pushed_authorization_request_endpoint, `${ISSUER}/oauth/par`)
  t.equal(meta.authorization_response_iss_parameter_supported, true)
  const relaxed = (await app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
  t.equal(relaxed.require_pushed_authorization_requests, false)
})
