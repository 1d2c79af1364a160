import Fastify from 'fastify'
import t from 'tap'
import { createVerifier, tollgate } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint } from './helpers.js'

const key = await makeKey('k1')
const server = jwksServer([key.jwk])

async function app() {
  const app = Fastify()
  await app.register(tollgate, { issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: server.fetch })
  app.get('/me', { onRequest: app.authenticate }, async (req) => ({ sub: req.auth?.subject }))
  app.get('/read', { onRequest: app.requireScope('notes:read') }, async (req) => ({ scopes: [...req.auth!.scopes] }))
  app.post('/write', { onRequest: app.requireScope('notes:write') }, async () => ({ ok: true }))
  app.get('/open', async (req) => ({ auth: req.auth }))
  return app
}

t.test('a valid token reaches the handler with request.auth set', async (t) => {
  const a = await app()
  const res = await a.inject({ url: '/me', headers: { authorization: `Bearer ${await mint(key)}` } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sub: 'user-1' })
})

t.test('request.auth is null on unprotected routes', async (t) => {
  const res = await (await app()).inject({ url: '/open' })
  t.same(res.json(), { auth: null })
})

t.test('no token: 401 with a bare Bearer realm challenge', async (t) => {
  const res = await (await app()).inject({ url: '/me' })
  t.equal(res.statusCode, 401)
  t.same(res.headers['www-authenticate'], [
    `Bearer realm="${AUDIENCE}"`,
    `DPoP realm="${AUDIENCE}", algs="ES256 ES384 EdDSA Ed25519 RS256 PS256"`,
  ])
})

t.test('another scheme counts as no token', async (t) => {
  const res = await (await app()).inject({ url: '/me', headers: { authorization: 'Basic dXNlcjpwYXNz' } })
  t.equal(res.statusCode, 401)
  t.same(res.headers['www-authenticate'], [
    `Bearer realm="${AUDIENCE}"`,
    `DPoP realm="${AUDIENCE}", algs="ES256 ES384 EdDSA Ed25519 RS256 PS256"`,
  ])
})

t.test('a malformed Authorization header: 400 invalid_request', async (t) => {
  const res = await (await app()).inject({ url: '/me', headers: { authorization: 'Bearer a b' } })
  t.equal(res.statusCode, 400)
  t.match(res.headers['www-authenticate'], /error="invalid_request"/)
})

t.test('an invalid token: 401 invalid_token with a description', async (t) => {
  const res = await (await app()).inject({ url: '/me', headers: { authorization: 'Bearer not.a.token' } })
  t.equal(res.statusCode, 401)
  const [bearer, dpop] = res.headers['www-authenticate'] as string[]
  t.match(bearer, /^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]+"$/)
  t.match(dpop, /^DPoP realm="[^"]+", algs="[^"]+"$/, 'and DPoP offered beside it (RFC 9449 §7.1)')
  t.equal(res.json().error, 'invalid_token')
})

t.test('an expired token: 401 invalid_token', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  const token = await mint(key, claims({ exp: now - 100, iat: now - 400 }))
  const res = await (await app()).inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /error_description="token has expired"/)
})

t.test('a missing scope: 403 insufficient_scope naming the scope', async (t) => {
  const res = await (await app()).inject({
    method: 'POST',
    url: '/write',
    headers: { authorization: `Bearer ${await mint(key)}` },
  })
  t.equal(res.statusCode, 403)
  t.match(res.headers['www-authenticate'], /error="insufficient_scope"/)
  t.match(res.headers['www-authenticate'], /scope="notes:write"/)
  t.equal(res.json().error, 'insufficient_scope')
})

t.test('the scope guard passes when the scope is granted', async (t) => {
  const res = await (await app()).inject({ url: '/read', headers: { authorization: `Bearer ${await mint(key)}` } })
  t.equal(res.statusCode, 200)
  t.same(res.json().scopes.sort(), ['notes:read', 'profile'])
})

t.test('requireScope rejects programming mistakes at registration', async (t) => {
  const a = await app()
  t.throws(() => a.requireScope(), TypeError)
  t.throws(() => a.requireScope('a b'), TypeError)
})

t.test('an existing verifier can be passed in', async (t) => {
  const a = Fastify()
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: server.fetch })
  await a.register(tollgate, { verifier, realm: 'notes' })
  a.get('/me', { onRequest: a.authenticate }, async () => 'ok')
  const res = await a.inject({ url: '/me' })
  t.equal((res.headers['www-authenticate'] as string[])[0], 'Bearer realm="notes"')
  t.equal(a.tollgate.verifier, verifier)
})
