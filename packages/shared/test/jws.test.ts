// The one asymmetric-signature module: every algorithm of the table signs and verifies (sync and on the pool), and
// every mismatch of key and algorithm, HMAC and `none` are refused; compact JWS decoding at its edges.
import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createLocalJWKSet, exportJWK, importJWK, jwtVerify, SignJWT } from 'jose'
import t from 'tap'
import {
  algorithmOfJwk,
  algorithmOfKey,
  decodeJws,
  isJwsAlgorithm,
  JWS_ALGORITHMS,
  type JwsAlgorithm,
  JwsFormatError,
  keyFits,
  publicJwkOf,
  signInPool,
  signSync,
  verifySignature,
  verifySignatureInPool,
} from '../src/index.js'
import { importJwks } from '../src/lib/key-set.js'

const pairs = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }),
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  ed25519: generateKeyPairSync('ed25519'),
}
const keyFor: Record<JwsAlgorithm, { privateKey: KeyObject; publicKey: KeyObject }> = {
  RS256: pairs.rsa,
  PS256: pairs.rsa,
  ES256: pairs.p256,
  ES384: pairs.p384,
  EdDSA: pairs.ed25519,
  Ed25519: pairs.ed25519,
}
const input = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0')

t.test('every algorithm signs and verifies, on the calling thread and on the pool', async (t) => {
  for (const alg of JWS_ALGORITHMS) {
    const { privateKey, publicKey } = keyFor[alg]
    const signature = signSync(alg, privateKey, input)
    t.ok(verifySignature(alg, publicKey, input, signature), `${alg} sync`)
    t.ok(await verifySignatureInPool(alg, publicKey, input, await signInPool(alg, privateKey, input)), `${alg} pool`)
    const flipped = Buffer.from(signature)
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1
    t.notOk(verifySignature(alg, publicKey, input, flipped), `${alg}: a flipped bit fails`)
    t.notOk(await verifySignatureInPool(alg, publicKey, input, flipped))
    t.notOk(verifySignature(alg, publicKey, Buffer.from(`${input}x`), signature), `${alg}: other input fails`)
  }
})

t.test('JWS signatures interoperate with jose in both directions', async (t) => {
  for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const) {
    const { privateKey, publicKey } = keyFor[alg]
    const header = Buffer.from(JSON.stringify({ alg, kid: 'k' })).toString('base64url')
    const payload = Buffer.from(JSON.stringify({ sub: 'x' })).toString('base64url')
    const ours = `${header}.${payload}.${signSync(alg, privateKey, Buffer.from(`${header}.${payload}`)).toString('base64url')}`
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg }] })
    t.equal((await jwtVerify(ours, jwks, { algorithms: [alg] })).payload.sub, 'x', `jose verifies our ${alg}`)
    const theirs = await new SignJWT({ sub: 'y' })
      .setProtectedHeader({ alg })
      .sign(await importJWK(await exportJWK(privateKey), alg))
    const { signingInput, signature } = decodeJws(theirs)
    t.ok(verifySignature(alg, publicKey, signingInput, signature), `we verify jose's ${alg}`)
  }
})

t.test('a key verifies only the algorithms of its type and curve', async (t) => {
  const signature = signSync('ES256', pairs.p256.privateKey, input)
  t.notOk(verifySignature('ES384', pairs.p256.publicKey, input, signature), 'P-256 is not ES384')
  t.notOk(verifySignature('RS256', pairs.p256.publicKey, input, signature))
  t.notOk(verifySignature('EdDSA', pairs.p256.publicKey, input, signature))
  const rs = signSync('RS256', pairs.rsa.privateKey, input)
  t.notOk(verifySignature('PS256', pairs.rsa.publicKey, input, rs), 'PKCS#1 v1.5 is not PSS')
  t.notOk(verifySignature('ES256', pairs.rsa.publicKey, input, rs))
  t.notOk(keyFits('RS256', pairs.rsa1024.publicKey), 'RSA under 2048 bits fits nothing')
  const secret = createSecretKey(Buffer.alloc(32, 1))
  for (const alg of JWS_ALGORITHMS) t.notOk(keyFits(alg, secret), `an HMAC secret does not fit ${alg}`)
  for (const alg of ['none', 'HS256', 'HS512', 'RS512', '', undefined, 'rs256']) t.notOk(isJwsAlgorithm(alg))
  t.throws(() => signSync('ES256', pairs.rsa.privateKey, input), TypeError)
  t.throws(() => signSync('ES256', pairs.p256.publicKey, input), TypeError, 'a public key signs nothing')
})

t.test('a key names its signing algorithm; a JWK`s alg must agree', async (t) => {
  t.equal(algorithmOfKey(pairs.rsa.publicKey), 'RS256')
  t.equal(algorithmOfKey(pairs.p256.publicKey), 'ES256')
  t.equal(algorithmOfKey(pairs.ed25519.privateKey), 'EdDSA')
  t.equal(algorithmOfKey(pairs.p384.publicKey), undefined, 'ES384 is not a signing algorithm of Tollgate')
  t.equal(algorithmOfKey(pairs.rsa1024.publicKey), undefined)
  const ec = publicJwkOf(pairs.p256.privateKey)
  t.same(Object.keys(ec).sort(), ['crv', 'kty', 'x', 'y'], 'public members only')
  t.equal(algorithmOfJwk(ec), 'ES256')
  t.equal(algorithmOfJwk({ ...ec, alg: 'ES256' }), 'ES256')
  t.equal(algorithmOfJwk({ ...ec, alg: 'RS256' }), undefined)
  t.equal(algorithmOfJwk({ ...publicJwkOf(pairs.rsa.publicKey), alg: 'PS256' }), undefined)
  t.equal(algorithmOfJwk(publicJwkOf(pairs.ed25519.publicKey)), 'EdDSA')
})

t.test('importJwks keeps usable public keys only, never private members', async (t) => {
  const rsa = { ...publicJwkOf(pairs.rsa.publicKey), kid: 'rsa' }
  const withD = { ...(pairs.p256.privateKey.export({ format: 'jwk' }) as object), kid: 'ec' }
  const ps = { ...rsa, kid: 'ps', alg: 'PS256' }
  const doc = { keys: [rsa, withD, ps, { ...publicJwkOf(pairs.rsa1024.publicKey), kid: 'short' }, { kty: 'oct' }] }
  const signing = importJwks(doc, 'signing')
  t.same([...signing.byKid.keys()], ['rsa', 'ec'])
  t.equal(signing.byKid.get('ec')?.key.type, 'public', 'the private member was not imported')
  const any = importJwks(doc, 'any')
  t.same([...any.byKid.keys()], ['rsa', 'ec', 'ps'])
  t.equal(any.byKid.get('ps')?.alg, 'PS256')
  t.throws(() => importJwks({ keys: [{ kty: 'oct', k: 'AAAA' }] }), /no usable signing key/)
  t.throws(() => importJwks([]), /not a JWK Set/)
})

t.test('decodeJws refuses what is not one well-formed compact JWS', async (t) => {
  const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
  const ok = `${enc({ alg: 'ES256' })}.${enc({ sub: 'x' })}.AAAA`
  t.equal(decodeJws(ok).payload.sub, 'x')
  const cases: [string, string][] = [
    ['two segments', `${enc({ alg: 'ES256' })}.${enc({})}`],
    ['non-canonical base64url', `${enc({ alg: 'ES256' })}.${enc({ sub: 'x' })}.AAB`],
    ['header not JSON', `${enc('nope')}.${enc({})}.AAAA`],
    ['header an array', `${enc([1])}.${enc({})}.AAAA`],
    ['payload not an object', `${enc({ alg: 'ES256' })}.${enc('"s"')}.AAAA`],
    ['duplicate members', `${enc('{"alg":"none","alg":"ES256"}')}.${enc({})}.AAAA`],
    ['no alg', `${enc({ typ: 'JWT' })}.${enc({})}.AAAA`],
    ['crit', `${enc({ alg: 'ES256', crit: ['b64'], b64: false })}.${enc({})}.AAAA`],
    ['too large', `${enc({ alg: 'ES256' })}.${enc({ pad: 'x'.repeat(9000) })}.AAAA`],
  ]
  for (const [name, token] of cases) t.throws(() => decodeJws(token), JwsFormatError, name)
})
