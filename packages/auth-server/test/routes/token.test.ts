import t from 'tap'
import { API, basic, decodeJwt, form, ISSUER, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const { app, keystore, clock } = await testServer()

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const post = (fields: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/oauth/token', headers: { ...FORM, ...headers }, payload: form(fields) })
const cc = (fields: Record<string, string | string[]> = {}) =>
  post({ grant_type: 'client_credentials', ...fields }, { authorization: basic('service', SERVICE_SECRET) })

t.test('client_credentials with client_secret_basic', async (t) => {
  const res = await cc()
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers.pragma, 'no-cache')
  const body = res.json()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 300)
  t.equal(body.scope, 'notes:read notes:write')
})

t.test('the access token follows RFC 9068 exactly', async (t) => {
  const { header, payload } = decodeJwt((await cc()).json().access_token)
  t.same(header, { alg: 'RS256', typ: 'at+jwt', kid: keystore.signingKey().kid })
  t.same(Object.keys(payload).sort(), ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub'])
  t.equal(payload.iss, ISSUER)
  t.equal(payload.sub, 'service')
  t.equal(payload.client_id, 'service')
  t.equal(payload.aud, API)
  t.equal(payload.exp, (payload.iat as number) + 300)
  t.equal(payload.iat, Math.floor(clock.now / 1000))
  t.match(payload.jti, /^[A-Za-z0-9_-]{22}$/)
})

t.test('every token gets a distinct jti', async (t) => {
  const jtis = new Set<unknown>()
  for (let i = 0; i < 10; i++) jtis.add(decodeJwt((await cc()).json().access_token).payload.jti)
  t.equal(jtis.size, 10)
})

t.test('client_credentials with client_secret_post', async (t) => {
  const res = await post({ grant_type: 'client_credentials', client_id: 'service', client_secret: SERVICE_SECRET })
  t.equal(res.statusCode, 200)
})

t.test('Basic credentials are form-decoded (RFC 6749 §2.3.1)', async (t) => {
  const raw = `Basic ${Buffer.from(`service:${SERVICE_SECRET}`).toString('base64')}`
  t.equal((await post({ grant_type: 'client_credentials' }, { authorization: raw })).statusCode, 200)
})

t.test('a wrong secret, an unknown client, or no credentials: 401 invalid_client with a Basic challenge', async (t) => {
  const attempts: Record<string, string>[] = [
    { authorization: basic('service', 'wrong') },
    { authorization: basic('nobody', SERVICE_SECRET) },
    { authorization: 'Basic !!!' },
    {},
  ]
  for (const headers of attempts) {
    const res = await post({ grant_type: 'client_credentials' }, headers)
    t.equal(res.statusCode, 401)
    t.equal(res.json().error, 'invalid_client')
    t.match(res.headers['www-authenticate'], /^Basic realm=/)
    t.equal(res.headers['cache-control'], 'no-store')
  }
})

t.test('a confidential client without its secret is refused', async (t) => {
  const res = await post({ grant_type: 'client_credentials', client_id: 'service' })
  t.equal(res.statusCode, 401)
  t.equal(res.json().error, 'invalid_client')
})

t.test('two authentication methods at once: invalid_request', async (t) => {
  const res = await post(
    { grant_type: 'client_credentials', client_secret: SERVICE_SECRET },
    { authorization: basic('service', SERVICE_SECRET) },
  )
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
})

t.test('a public client cannot use client_credentials', async (t) => {
  const res = await post({ grant_type: 'client_credentials', client_id: 'web' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'unauthorized_client')
})

t.test('a grant the client is not registered for: unauthorized_client', async (t) => {
  const res = await post(
    { grant_type: 'password', username: 'alice', password: USER_PASSWORD },
    { authorization: basic('service', SERVICE_SECRET) },
  )
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'unauthorized_client')
})

t.test('an unknown grant_type: unsupported_grant_type', async (t) => {
  const res = await post({ grant_type: 'urn:example:magic' }, { authorization: basic('service', SERVICE_SECRET) })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'unsupported_grant_type')
})

t.test('a missing grant_type: invalid_request', async (t) => {
  const res = await post({}, { authorization: basic('service', SERVICE_SECRET) })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
})

t.test('a repeated parameter: invalid_request', async (t) => {
  const res = await cc({ scope: ['notes:read', 'notes:write'] })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
})

t.test('scope: a requested subset is granted as asked', async (t) => {
  const res = await cc({ scope: 'notes:read' })
  t.equal(res.json().scope, 'notes:read')
  t.equal(decodeJwt(res.json().access_token).payload.scope, 'notes:read')
})

t.test('scope: anything not allowed is invalid_scope', async (t) => {
  for (const scope of ['notes:read admin', 'admin', 'notes:read\u0001']) {
    const res = await cc({ scope })
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'invalid_scope')
  }
})

t.test('resource picks the audience among the client audiences (RFC 8707)', async (t) => {
  const res = await cc({ resource: 'https://other.test' })
  t.equal(res.statusCode, 200)
  t.equal(decodeJwt(res.json().access_token).payload.aud, 'https://other.test')
  const both = await cc({ resource: [API, 'https://other.test'] })
  t.same(decodeJwt(both.json().access_token).payload.aud, [API, 'https://other.test'])
})

t.test('an unknown or malformed resource is invalid_target', async (t) => {
  for (const resource of ['https://evil.test', 'not-a-uri', `${API}#frag`]) {
    const res = await cc({ resource })
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'invalid_target')
  }
})

t.test('password grant: a user token with auth_time and roles', async (t) => {
  const res = await post({
    grant_type: 'password',
    client_id: 'web',
    username: 'alice',
    password: USER_PASSWORD,
    scope: 'notes:read',
  })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.id_token, undefined, 'no ID token without openid')
  const { payload } = decodeJwt(body.access_token)
  t.same(Object.keys(payload).sort(), [
    'aud',
    'auth_time',
    'client_id',
    'exp',
    'iat',
    'iss',
    'jti',
    'roles',
    'scope',
    'sid',
    'sub',
  ])
  t.match(payload.sub, /^[0-9a-f-]{36}$/)
  t.match(payload.sid, /^[A-Za-z0-9_-]{16}$/, 'the session it belongs to')
  t.equal(payload.client_id, 'web')
  t.same(payload.roles, ['admin'])
  t.equal(payload.auth_time, Math.floor(clock.now / 1000))
  t.notOk('email' in payload, 'no personal data in the access token')
})

t.test('password grant with openid: an ID token with the claims the scopes allow', async (t) => {
  const res = await post({
    grant_type: 'password',
    client_id: 'web',
    username: 'alice',
    password: USER_PASSWORD,
    scope: 'openid email',
  })
  const { header, payload } = decodeJwt(res.json().id_token)
  t.equal(header.typ, 'JWT')
  t.equal(payload.aud, 'web')
  t.equal(payload.email, 'alice@example.com')
  t.equal(payload.email_verified, true)
  t.notOk('name' in payload, 'profile claims need the profile scope')
  t.ok(payload.auth_time)
})

t.test('password grant: unknown user, wrong password and disabled user answer identically', async (t) => {
  const answers = []
  for (const [username, password] of [
    ['nobody', USER_PASSWORD],
    ['alice', 'wrong password'],
    ['bob', USER_PASSWORD],
  ]) {
    const res = await post({ grant_type: 'password', client_id: 'web', username: username!, password: password! })
    answers.push({ status: res.statusCode, body: res.body })
  }
  t.equal(answers[0]?.status, 400)
  t.same(JSON.parse(answers[0]!.body), { error: 'invalid_grant', error_description: 'invalid username or password' })
  t.same(answers[1], answers[0])
  t.same(answers[2], answers[0])
})

t.test('password grant: a confidential client must authenticate', async (t) => {
  const res = await post({
    grant_type: 'password',
    client_id: 'confidential-web',
    username: 'alice',
    password: USER_PASSWORD,
  })
  t.equal(res.statusCode, 401)
  const ok = await post(
    { grant_type: 'password', username: 'alice', password: USER_PASSWORD },
    { authorization: basic('confidential-web', `${SERVICE_SECRET}-web`) },
  )
  t.equal(ok.statusCode, 200)
})

t.test('password grant: missing username or password is invalid_request', async (t) => {
  const res = await post({ grant_type: 'password', client_id: 'web', username: 'alice' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
})

t.test('only form bodies are accepted', async (t) => {
  for (const [type, payload] of [
    ['application/json', JSON.stringify({ grant_type: 'client_credentials' })],
    ['text/plain', 'grant_type=client_credentials'],
    ['multipart/form-data; boundary=x', '--x--'],
  ]) {
    const res = await app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': type! }, payload })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${type} → ${res.statusCode}`)
    t.equal(res.json().error, 'invalid_request')
  }
})

t.test('an oversized body is refused with an OAuth error', async (t) => {
  const res = await cc({ scope: 'x'.repeat(40_000) })
  t.equal(res.statusCode, 413)
  t.equal(res.json().error, 'invalid_request')
})

t.test('GET is not the token endpoint', async (t) => {
  const res = await app.inject({ url: '/oauth/token' })
  t.equal(res.statusCode, 404)
})

t.test('errors never echo a submitted secret', async (t) => {
  const secret = 'super-secret-value-that-must-not-leak-000000'
  const res = await post({ grant_type: 'client_credentials', client_id: 'service', client_secret: secret })
  t.notMatch(res.body, secret)
  const pw = await post({ grant_type: 'password', client_id: 'web', username: 'alice', password: secret })
  t.notMatch(pw.body, secret)
})
