// Both services as real processes on free ports, sharing a private redis-server.
import { generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { ALICE, READER, SERVICE, tokenRequest, WEB } from '../support/fixtures.js'
import type { TestRedis } from '../support/redis.js'
import type { Service } from '../support/services.js'

// The resource API starts first: it must come up without the auth server (keys are fetched lazily).
let readyBeforeAuth = 0
const stack = await startE2e(t, {
  api: true,
  beforeAuth: async (api) => {
    readyBeforeAuth = (await fetch(`${api.url}/readyz`)).status
  },
})
const { issuer, tokenUrl, audience, auth } = stack
const redis = stack.redis as TestRedis
const api = stack.api as Service

const call = (path: string, token?: string, init: RequestInit = {}) =>
  fetch(`${api.url}${path}`, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
  })

t.test('the resource API starts without the auth server and reports not ready', async (t) => {
  t.equal(readyBeforeAuth, 503)
})

t.test('client_credentials token → GET /v1/notes 200', async (t) => {
  const { status, body } = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, SERVICE)
  t.equal(status, 200)
  const token = body.access_token as string
  const res = await call('/v1/notes', token)
  t.equal(res.status, 200)
  t.same(await res.json(), [])
  const created = await call('/v1/notes', token, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'restock widgets' }),
  })
  t.equal(created.status, 201)
  const list = (await (await call('/v1/notes', token)).json()) as { text: string }[]
  t.same(
    list.map((n) => n.text),
    ['restock widgets'],
  )
  t.equal((await fetch(`${api.url}/readyz`)).status, 200, 'ready once keys are loaded')
})

t.test('a token without the scope → 403 insufficient_scope', async (t) => {
  const { body } = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, READER)
  const res = await call('/v1/notes', body.access_token as string)
  t.equal(res.status, 403)
  t.match(res.headers.get('www-authenticate'), /error="insufficient_scope", .*scope="notes:read"/)
})

t.test('password grant → GET /v1/me', async (t) => {
  const { status, body } = await tokenRequest(tokenUrl, {
    grant_type: 'password',
    client_id: WEB.id,
    username: ALICE.username,
    password: ALICE.password,
    scope: 'openid notes:read',
  })
  t.equal(status, 200)
  t.type(body.id_token, 'string')
  const res = await call('/v1/me', body.access_token as string)
  t.equal(res.status, 200)
  const me = (await res.json()) as Record<string, unknown>
  t.equal(me.client_id, WEB.id)
  t.same(me.roles, ['admin'])
  t.equal(me.scope, 'openid notes:read')
})

t.test('no token → 401 with a Bearer realm challenge', async (t) => {
  const res = await call('/v1/me')
  t.equal(res.status, 401)
  t.match(res.headers.get('www-authenticate'), /^Bearer realm="/)
})

t.test('a token signed by any other key is refused', async (t) => {
  const { privateKey } = await generateKeyPair('RS256')
  const { body } = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, SERVICE)
  const real = JSON.parse(Buffer.from((body.access_token as string).split('.')[0]!, 'base64url').toString())
  const now = Math.floor(Date.now() / 1000)
  for (const kid of [real.kid, 'some-other-kid']) {
    const forged = await new SignJWT({
      iss: issuer,
      sub: SERVICE.id,
      aud: audience,
      exp: now + 300,
      iat: now,
      jti: 'forged',
      client_id: SERVICE.id,
      scope: 'notes:read notes:write',
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid })
      .sign(privateKey)
    const res = await call('/v1/notes', forged)
    t.equal(res.status, 401, `kid ${kid === real.kid ? 'of the real key' : 'unknown'}`)
    t.match(res.headers.get('www-authenticate'), /error="invalid_token"/)
  }
})

t.test('an ID token is not an access token', async (t) => {
  const { body } = await tokenRequest(tokenUrl, {
    grant_type: 'password',
    client_id: WEB.id,
    username: ALICE.username,
    password: ALICE.password,
    scope: 'openid',
  })
  const res = await call('/v1/me', body.id_token as string)
  t.equal(res.status, 401)
})

t.test('bootstrap data lives in Redis', async (t) => {
  const { Redis } = await import('ioredis')
  const client = new Redis(redis.url)
  t.teardown(() => client.quit())
  const keys = await client.keys(`${redis.prefix}*`)
  t.ok(keys.includes(`${redis.prefix}client:${SERVICE.id}`))
  const stored = await client.get(`${redis.prefix}client:${SERVICE.id}`)
  t.notMatch(stored, SERVICE.secret, 'client secret stored hashed')
})
