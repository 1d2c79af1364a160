// Two instances of one service behind a load balancer share a Redis replay guard: a proof accepted by one is refused
// by the other; with Redis gone the guard fails closed.
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import t from 'tap'
import { startRedis } from '../../../test/support/redis.js'
import { accessTokenHash, redisReplayGuard, tollgate } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint, nowSec } from './helpers.js'

const redis = await startRedis({ private: true })
t.teardown(() => redis.stop())
const client = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true })
await client.connect()
t.teardown(() => client.disconnect())

const key = await makeKey('k1')
const jwks = jwksServer([key.jwk])
const pair = await generateKeyPair('ES256', { extractable: true })
const { kty, crv, x, y } = await exportJWK(pair.publicKey)
const jwk = { kty, crv, x, y } as JWK
const token = await mint(key, claims({ cnf: { jkt: await calculateJwkThumbprint(jwk) } }))
const proof = () =>
  new SignJWT({
    htm: 'GET',
    htu: 'http://api.test/me',
    jti: randomBytes(12).toString('base64url'),
    iat: nowSec(),
    ath: accessTokenHash(token),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .sign(pair.privateKey)

async function instance() {
  const app = Fastify()
  const replay = redisReplayGuard(client, { prefix: `${redis.prefix}orders:` })
  await app.register(tollgate, {
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: JWKS_URI,
    fetch: jwks.fetch,
    dpop: { replay },
  })
  app.get('/me', { onRequest: app.authenticate }, async () => ({ ok: true }))
  t.teardown(() => app.close())
  return app
}
const [a, b] = [await instance(), await instance()]
const call = (app: Awaited<ReturnType<typeof instance>>, dpop: string) =>
  app.inject({ url: '/me', headers: { host: 'api.test', authorization: `DPoP ${token}`, dpop } })

t.test('a proof accepted by one instance is refused by the other', async (t) => {
  const once = await proof()
  t.equal((await call(a, once)).statusCode, 200)
  const again = await call(b, once)
  t.equal(again.statusCode, 401)
  t.match(
    String(again.headers['www-authenticate']),
    /^DPoP realm="[^"]*", error="invalid_dpop_proof", error_description="the DPoP proof was already used"/,
  )
  t.equal((await call(b, await proof())).statusCode, 200, 'a fresh proof still works at the other instance')
  const keys = await client.keys(`${redis.prefix}orders:dpop-jti:*`)
  t.equal(keys.length, 2)
  t.ok((await client.pttl(keys[0] as string)) > 0, 'claimed ids expire with the proof window')
})

t.test('with Redis unreachable the guard refuses proofs rather than letting one through twice', async (t) => {
  await redis.kill()
  const res = await call(a, await proof())
  t.equal(res.statusCode, 401)
  t.match(String(res.headers['www-authenticate']), /error="invalid_dpop_proof"/)
})
