// Issue 22: hostile input at a service built on the plugin never reaches a 500 — a Host header that cannot name a URL
// (what a DPoP proof's htu is built from) is 400 invalid_request; a token whose claims are of the wrong type or range
// is invalid_token, even when its signature is good.
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { accessTokenCheck, MAX_TOKEN_TIME, tollgate } from '../src/index.js'
import { validHost } from '../src/lib/host.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint, nowSec, signRaw } from './helpers.js'

const key = await makeKey('k1')
const jwks = jwksServer([key.jwk])
const app = Fastify()
await app.register(tollgate, { issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: jwks.fetch })
app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.auth?.subject }))
app.post('/notes', { onRequest: app.requireScope('notes:write') }, async () => ({ ok: true }))

const pair = await generateKeyPair('ES256', { extractable: true })
const jwk = await exportJWK(pair.publicKey)
const ownProof = (htu: string) =>
  new SignJWT({ htm: 'GET', htu, jti: randomBytes(12).toString('base64url'), iat: nowSec() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .sign(pair.privateKey)

t.test('a Host that cannot name a URL, with any DPoP credential: 400 invalid_request, never 500', async (t) => {
  const hosts = ['a b', '%', 'a|b', '[zz]', 'ex ample.com', 'ünïcode.test', 'a\tb', 'x:99999']
  for (const host of hosts) {
    for (const url of ['/me', '/notes']) {
      const res = await app.inject({
        method: url === '/me' ? 'GET' : 'POST',
        url,
        headers: { host, authorization: 'DPoP anything', dpop: await ownProof('http://api.test/me') },
      })
      t.equal(res.statusCode, 400, `Host ${JSON.stringify(host)} ${url}`)
      t.equal(res.json().error, 'invalid_request')
    }
  }
  const fine = await app.inject({ url: '/me', headers: { host: 'api.test', authorization: 'DPoP anything' } })
  t.equal(fine.statusCode, 401, 'a usable Host goes on to the proof check')
})

t.test('validHost agrees with the URL parser', async (t) => {
  for (const host of ['api.test', 'api.test:8443', '127.0.0.1:3000', '[::1]:3001', 'a_b.internal']) {
    t.ok(validHost(host), host)
  }
  for (const host of ['a b', '%41', 'a|b', '[zz]', 'x:99999', 'x:', '', 'a/b', 'a@b']) t.notOk(validHost(host), host)
})

t.test('times must be whole seconds in range; aud a string or a non-empty array of strings', async (t) => {
  const header = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }
  const check = accessTokenCheck({ issuer: ISSUER, audience: AUDIENCE, keys: { getKey: async () => key.publicKey } })
  const code = async (over: Record<string, unknown>) =>
    check(await signRaw(key, header, claims(over))).then(
      () => 'ok',
      (err: { code: string }) => err.code,
    )
  for (const exp of [1e14, 1e308, 2 ** 53, nowSec() + 600.0001, MAX_TOKEN_TIME + 1, -5, '9999999999']) {
    t.equal(await code({ exp }), 'ERR_TOKEN_CLAIM', `exp ${String(exp)}`)
  }
  t.equal(await code({ exp: MAX_TOKEN_TIME }), 'ok', 'far in the future, but a time')
  for (const aud of [5, null, [null], [5], [[AUDIENCE]], { a: AUDIENCE }, []]) {
    t.equal(await code({ aud }), 'ERR_TOKEN_CLAIM', `aud ${JSON.stringify(aud)}`)
  }
  for (const [name, value] of [
    ['sub', 'a\u0000b'],
    ['client_id', '\u001b[31m'],
    ['jti', 5],
    ['sid', ''],
    ['scope', 'a\u0000b'],
    ['act', { sub: 'x', act: { sub: 5 } }],
    ['cnf', { jkt: 5 }],
    ['roles', ['a', 5]],
  ] as const) {
    t.equal(await code({ [name]: value }), 'ERR_TOKEN_CLAIM', `${name} ${JSON.stringify(value)}`)
  }
})

t.test('the plugin answers such a token 401 invalid_token', async (t) => {
  const token = await mint(key, claims({ exp: 1e14 }))
  const res = await app.inject({ url: '/me', headers: { host: 'api.test', authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /invalid_token/)
})
