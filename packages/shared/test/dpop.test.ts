// DPoP at a resource server built on the plugin: a bound token works only as `DPoP` with a fresh proof by its key
// for this request; every way a forged or copied proof can be wrong is refused with an RFC 9449 §7.1 challenge.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import t from 'tap'
import { dpopNonces, tollgate } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint, nowSec } from './helpers.js'

const key = await makeKey('k1')
const jwks = jwksServer([key.jwk])
const URL_ME = 'http://api.test/me'

async function clientKey(alg: 'ES256' | 'EdDSA' = 'ES256') {
  const pair = await generateKeyPair(alg, { extractable: true })
  const { kty, crv, x, y } = await exportJWK(pair.publicKey)
  const jwk = Object.fromEntries(Object.entries({ kty, crv, x, y }).filter(([, v]) => v !== undefined)) as JWK
  return { alg, pair, jwk, jkt: await calculateJwkThumbprint(jwk) }
}
type ClientKey = Awaited<ReturnType<typeof clientKey>>
const athOf = (token: string) => createHash('sha256').update(token).digest('base64url')
const proof = (k: ClientKey, token: string, over: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  new SignJWT({
    htm: 'GET',
    htu: URL_ME,
    jti: randomBytes(12).toString('base64url'),
    iat: nowSec(),
    ath: athOf(token),
    ...over,
  })
    .setProtectedHeader({ alg: k.alg, typ: 'dpop+jwt', jwk: k.jwk, ...header })
    .sign(k.pair.privateKey)

async function service(options: Record<string, unknown> = {}) {
  const app = Fastify()
  await app.register(tollgate, { issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: jwks.fetch, ...options })
  app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.auth?.subject }))
  return app
}
const app = await service()
const call = (headers: Record<string, string | string[]>) =>
  app.inject({ url: '/me', headers: { host: 'api.test', ...headers } })

const owner = await clientKey('ES256')
const thief = await clientKey('EdDSA')
const bound = await mint(key, claims({ cnf: { jkt: owner.jkt }, jti: 'bound' }))
const otherBound = await mint(key, claims({ cnf: { jkt: owner.jkt }, jti: 'other' }))
const plain = await mint(key, claims({ jti: 'plain' }))

t.test('a bound token with a proof by its key works; with an EdDSA key too', async (t) => {
  t.equal((await call({ authorization: `DPoP ${bound}`, dpop: await proof(owner, bound) })).statusCode, 200)
  const ed = await clientKey('EdDSA')
  const edToken = await mint(key, claims({ cnf: { jkt: ed.jkt }, jti: 'ed' }))
  t.equal((await call({ authorization: `DPoP ${edToken}`, dpop: await proof(ed, edToken) })).statusCode, 200)
})

t.test('every forged, copied or mismatched proof is refused with a DPoP challenge', async (t) => {
  const now = nowSec()
  const replayed = await proof(owner, bound)
  t.equal((await call({ authorization: `DPoP ${bound}`, dpop: replayed })).statusCode, 200)
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const body = { htm: 'GET', htu: URL_ME, jti: 'x', iat: now, ath: athOf(bound) }
  const hs = `${enc({ alg: 'HS256', typ: 'dpop+jwt', jwk: owner.jwk })}.${enc(body)}`
  const cases: [string, string | string[] | undefined][] = [
    ['a replayed proof', replayed],
    ['a proof by another key', await proof(thief, bound)],
    ['another method', await proof(owner, bound, { htm: 'POST' })],
    ['another URL', await proof(owner, bound, { htu: 'http://api.test/other' })],
    ['another host', await proof(owner, bound, { htu: 'http://evil.test/me' })],
    ['a stale iat', await proof(owner, bound, { iat: now - 3600 })],
    ['an iat in the future', await proof(owner, bound, { iat: now + 3600 })],
    ['no ath', await proof(owner, bound, { ath: undefined })],
    ['the ath of another token', await proof(owner, otherBound)],
    ['alg none', `${enc({ alg: 'none', typ: 'dpop+jwt', jwk: owner.jwk })}.${enc(body)}.`],
    ['alg HS256', `${hs}.${createHmac('sha256', 'k').update(hs).digest('base64url')}`],
    ['a private key in jwk', await proof(owner, bound, {}, { jwk: await exportJWK(privateKey) })],
    ['no proof at all', undefined],
    ['two proofs', [await proof(owner, bound), await proof(owner, bound)]],
  ]
  for (const [name, dpop] of cases) {
    const res = await call({ authorization: `DPoP ${bound}`, ...(dpop === undefined ? {} : { dpop }) })
    t.equal(res.statusCode, 401, name)
    t.match(
      res.headers['www-authenticate'],
      /^DPoP realm="[^"]+", error="invalid_dpop_proof", error_description="[^"]+", algs="ES256/,
      `${name}: challenge`,
    )
  }
})

t.test('a bound token as Bearer is refused, cached or not; a plain token as DPoP too', async (t) => {
  t.equal((await call({ authorization: `DPoP ${bound}`, dpop: await proof(owner, bound) })).statusCode, 200)
  const asBearer = await call({ authorization: `Bearer ${bound}` })
  t.equal(asBearer.statusCode, 401, 'the verified-token cache does not let it through')
  const [bearer, dpop] = asBearer.headers['www-authenticate'] as string[]
  t.match(bearer, /^Bearer .*error="invalid_token"/)
  t.match(dpop, /^DPoP realm=.*algs=/)
  t.equal((await call({ authorization: `DPoP ${plain}`, dpop: await proof(owner, plain) })).statusCode, 401)
  t.equal((await call({ authorization: `Bearer ${plain}` })).statusCode, 200, 'a bearer token still works as Bearer')
})

t.test('publicUrl: the proof names the URL the client used, behind a proxy', async (t) => {
  const proxied = await service({ publicUrl: 'https://api.example/' })
  const token = await mint(key, claims({ cnf: { jkt: owner.jkt }, jti: 'proxied' }))
  const res = await proxied.inject({
    url: '/me',
    headers: { authorization: `DPoP ${token}`, dpop: await proof(owner, token, { htu: 'https://api.example/me' }) },
  })
  t.equal(res.statusCode, 200)
})

t.test('nonces: use_dpop_nonce with a DPoP-Nonce header, then accepted with it', async (t) => {
  const strict = await service({ dpop: { nonces: dpopNonces() } })
  const token = await mint(key, claims({ cnf: { jkt: owner.jkt }, jti: 'nonce' }))
  const send = async (nonce?: string) =>
    strict.inject({
      url: '/me',
      headers: {
        host: 'api.test',
        authorization: `DPoP ${token}`,
        dpop: await proof(owner, token, nonce ? { nonce } : {}),
      },
    })
  const first = await send()
  t.equal(first.statusCode, 401)
  t.match(first.headers['www-authenticate'], /^DPoP .*error="use_dpop_nonce"/)
  const nonce = first.headers['dpop-nonce'] as string
  t.ok(nonce)
  const second = await send(nonce)
  t.equal(second.statusCode, 200)
  t.type(second.headers['dpop-nonce'], 'string')
})

t.test('DPoP off: the scheme is refused', async (t) => {
  const off = await service({ dpop: false })
  const res = await off.inject({
    url: '/me',
    headers: { authorization: `DPoP ${bound}`, dpop: await proof(owner, bound) },
  })
  t.equal(res.statusCode, 401)
})
