// The one access-token check (node:crypto signatures, our own claim rules), at its edges: `typ` spellings, the clock
// tolerance boundaries, what is read only after the signature, and both key kinds a key source may hand out.
import { KeyObject } from 'node:crypto'
import t from 'tap'
import { accessTokenCheck, type TollgateTokenError } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, makeKey, signRaw } from './helpers.js'

const key = await makeKey('k1')
const other = await makeKey('k1')
const NOW = 1_800_000_000
const at = (overrides: Record<string, unknown> = {}) => claims({ iat: NOW, exp: NOW + 300, ...overrides })
const header = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }
const webKeys = { getKey: async () => key.publicKey }
const check = accessTokenCheck({ issuer: ISSUER, audience: AUDIENCE, keys: webKeys, now: () => NOW * 1000 })
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (err: TollgateTokenError) => err.code,
  )

t.test('typ is compared without case and without application/', async (t) => {
  for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+Jwt']) {
    t.equal(await codeOf(check(await signRaw(key, { ...header, typ }, at()))), 'ok', typ)
  }
  for (const typ of ['JWT', 'jwt', 'at+jwt+x', 'application/jwt', undefined, 7]) {
    t.equal(await codeOf(check(await signRaw(key, { ...header, typ }, at()))), 'ERR_TOKEN_TYPE', String(typ))
  }
})

t.test('the clock tolerance (5 s) at its edges', async (t) => {
  t.equal(await codeOf(check(await signRaw(key, header, at({ exp: NOW - 4 })))), 'ok', 'expired 4 s ago: tolerated')
  t.equal(await codeOf(check(await signRaw(key, header, at({ exp: NOW - 5 })))), 'ERR_TOKEN_EXPIRED', '5 s ago: not')
  t.equal(await codeOf(check(await signRaw(key, header, at({ nbf: NOW + 5 })))), 'ok', 'valid in 5 s: tolerated')
  t.equal(await codeOf(check(await signRaw(key, header, at({ nbf: NOW + 6 })))), 'ERR_TOKEN_NOT_YET_VALID')
  t.equal(await codeOf(check(await signRaw(key, header, at({ exp: Number.POSITIVE_INFINITY })))), 'ERR_TOKEN_CLAIM')
})

t.test('nothing of the payload is judged before the signature', async (t) => {
  const wrongTyp = await signRaw(other, { ...header, typ: 'JWT' }, at({ exp: NOW - 100, iss: 'https://evil' }))
  t.equal(await codeOf(check(wrongTyp)), 'ERR_TOKEN_SIGNATURE', 'a forged token is a forged token, whatever it says')
  t.equal(
    await codeOf(check(await signRaw(key, header, '[1,2]'))),
    'ERR_TOKEN_MALFORMED',
    'a claims set must be an object',
  )
  t.equal(await codeOf(check(await signRaw(key, header, 'null'))), 'ERR_TOKEN_MALFORMED')
  t.equal(await codeOf(check(await signRaw(key, { ...header, alg: 'PS256' }, at()))), 'ERR_TOKEN_ALG')
  t.equal(await codeOf(check(await signRaw(key, { typ: 'at+jwt', kid: 'k1' }, at()))), 'ERR_TOKEN_MALFORMED', 'no alg')
})

t.test('issuer exact, audience contained', async (t) => {
  t.equal(await codeOf(check(await signRaw(key, header, at({ iss: `${ISSUER}/` })))), 'ERR_TOKEN_CLAIM')
  t.equal(await codeOf(check(await signRaw(key, header, at({ aud: ['https://x', AUDIENCE] })))), 'ok')
  t.equal(await codeOf(check(await signRaw(key, header, at({ aud: ['https://x'] })))), 'ERR_TOKEN_CLAIM')
  t.equal(await codeOf(check(await signRaw(key, header, at({ aud: 5 })))), 'ERR_TOKEN_CLAIM')
})

t.test(
  'a key source may hand out KeyObjects or WebCrypto keys; an RS256 token under an EC key is refused',
  async (t) => {
    const token = await signRaw(key, header, at())
    const objects = accessTokenCheck({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { getKey: async () => KeyObject.from(key.publicKey) },
      now: () => NOW * 1000,
    })
    t.equal(await codeOf(objects(token)), 'ok')
    const { generateKeyPairSync } = await import('node:crypto')
    const ec = accessTokenCheck({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { getKey: async () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey },
      now: () => NOW * 1000,
    })
    t.equal(await codeOf(ec(token)), 'ERR_TOKEN_ALG')
  },
)

t.test('ES256 and EdDSA tokens verify under keys of their algorithm, and only there', async (t) => {
  const { generateKeyPairSync, sign } = await import('node:crypto')
  const raw = (alg: string, privateKey: KeyObject, h: Record<string, unknown> = {}) => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const input = `${enc({ alg, typ: 'at+jwt', kid: 'k1', ...h })}.${enc(at())}`
    const signature =
      alg === 'EdDSA' || alg === 'Ed25519'
        ? sign(null, Buffer.from(input), privateKey)
        : alg === 'ES256'
          ? sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
          : sign('sha256', Buffer.from(input), privateKey)
    return `${input}.${signature.toString('base64url')}`
  }
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ed = generateKeyPairSync('ed25519')
  const under = (publicKey: KeyObject) =>
    accessTokenCheck({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { getKey: async () => publicKey },
      now: () => NOW * 1000,
    })
  t.equal(await codeOf(under(ec.publicKey)(raw('ES256', ec.privateKey))), 'ok', 'ES256')
  t.equal(await codeOf(under(ed.publicKey)(raw('EdDSA', ed.privateKey))), 'ok', 'EdDSA')
  t.equal(await codeOf(under(ed.publicKey)(raw('Ed25519', ed.privateKey))), 'ERR_TOKEN_ALG', 'EdDSA keys sign EdDSA')
  t.equal(await codeOf(under(ec.publicKey)(raw('EdDSA', ed.privateKey))), 'ERR_TOKEN_ALG', 'EdDSA header, EC key')
  t.equal(await codeOf(under(ed.publicKey)(raw('ES256', ec.privateKey))), 'ERR_TOKEN_ALG', 'ES256 header, Ed25519 key')
  const rsaKey = KeyObject.from(key.publicKey)
  t.equal(await codeOf(under(rsaKey)(raw('ES256', ec.privateKey))), 'ERR_TOKEN_ALG', 'ES256 header, RSA key')
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  t.equal(await codeOf(under(p384.publicKey)(raw('ES256', ec.privateKey))), 'ERR_TOKEN_ALG', 'ES256 header, P-384 key')
  for (const alg of ['none', 'HS256', 'PS256', 'ES384', 'RS512']) {
    t.equal(await codeOf(under(ec.publicKey)(raw('ES256', ec.privateKey, { alg }))), 'ERR_TOKEN_ALG', alg)
  }
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  t.equal(
    await codeOf(under(ec.publicKey)(raw('ES256', other.privateKey))),
    'ERR_TOKEN_SIGNATURE',
    'another P-256 key under the kid',
  )
})
