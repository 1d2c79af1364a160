import { createHmac } from 'node:crypto'
import { exportSPKI, SignJWT, UnsecuredJWT } from 'jose'
import t, { type Test } from 'tap'
import { createVerifier, InvalidTokenError, type TollgateTokenError } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint, nowSec, signRaw } from './helpers.js'

const key = await makeKey('key-1')
const foreign = await makeKey('key-1') // same kid, different key: the classic substitution
const server = jwksServer([key.jwk])
const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: server.fetch })

async function refused(t: Test, token: string, code: string) {
  const err = (await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  )) as TollgateTokenError | undefined
  t.ok(err instanceof InvalidTokenError, 'is an InvalidTokenError')
  t.equal(err?.code, code)
  t.equal(err?.status, 401)
  t.equal(err?.error, 'invalid_token')
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

t.test('a valid access token yields its claims', async (t) => {
  const result = await verifier.verify(await mint(key, claims({ roles: ['admin'], auth_time: nowSec() })))
  t.equal(result.sub, 'user-1')
  t.equal(result.client_id, 'web')
  t.equal(result.scope, 'notes:read profile')
  t.same(result.roles, ['admin'])
})

t.test('aud may be an array containing this audience', async (t) => {
  const result = await verifier.verify(await mint(key, claims({ aud: ['https://other.test', AUDIENCE] })))
  t.equal(result.sub, 'user-1')
})

t.test('attack catalogue: each is refused with 401 invalid_token', async (t) => {
  t.test('alg none (unsigned)', async (t) => {
    const token = new UnsecuredJWT(claims()).encode()
    await refused(t, token, 'ERR_TOKEN_MALFORMED')
    const withSig = `${b64({ alg: 'none', typ: 'at+jwt', kid: 'key-1' })}.${b64(claims())}.AAAA`
    await refused(t, withSig, 'ERR_TOKEN_ALG')
  })

  t.test('HS256 signed with the public key as the HMAC secret', async (t) => {
    const pem = await exportSPKI(key.publicKey)
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'key-1' })}.${b64(claims())}`
    const sig = createHmac('sha256', pem).update(input).digest('base64url')
    await refused(t, `${input}.${sig}`, 'ERR_TOKEN_ALG')
  })

  t.test('a foreign key presenting the real kid', async (t) => {
    await refused(t, await mint(foreign), 'ERR_TOKEN_SIGNATURE')
  })

  t.test('jku, x5u and embedded jwk headers pointing at the attacker key', async (t) => {
    const attacker = await makeKey('attacker')
    for (const header of [
      { jku: 'https://evil.test/jwks.json', kid: 'attacker' },
      { x5u: 'https://evil.test/cert.pem', kid: 'attacker' },
      { jwk: attacker.jwk, kid: 'attacker' },
      { jwk: attacker.jwk, kid: 'key-1' },
    ]) {
      const token = await mint(attacker, claims(), header)
      const err = (await verifier.verify(token).catch((e) => e)) as TollgateTokenError
      t.equal(err.status, 401, JSON.stringify(Object.keys(header)))
      t.match(err.code, /ERR_TOKEN_(UNKNOWN_KEY|SIGNATURE|MALFORMED)/)
    }
  })

  t.test('a tampered payload', async (t) => {
    const [h, , s] = (await mint(key)).split('.')
    await refused(t, `${h}.${b64(claims({ scope: 'notes:read notes:write admin' }))}.${s}`, 'ERR_TOKEN_SIGNATURE')
  })

  t.test('expired', async (t) => {
    await refused(t, await mint(key, claims({ exp: nowSec() - 60, iat: nowSec() - 400 })), 'ERR_TOKEN_EXPIRED')
  })

  t.test('expired within the clock tolerance is still accepted', async (t) => {
    const result = await verifier.verify(await mint(key, claims({ exp: nowSec() - 2 })))
    t.equal(result.sub, 'user-1')
  })

  t.test('nbf in the future', async (t) => {
    await refused(t, await mint(key, claims({ nbf: nowSec() + 120 })), 'ERR_TOKEN_NOT_YET_VALID')
  })

  t.test('wrong issuer', async (t) => {
    await refused(t, await mint(key, claims({ iss: 'https://evil.test' })), 'ERR_TOKEN_CLAIM')
  })

  t.test('wrong audience', async (t) => {
    await refused(t, await mint(key, claims({ aud: 'https://other.test' })), 'ERR_TOKEN_CLAIM')
  })

  t.test('wrong typ, or none', async (t) => {
    await refused(t, await mint(key, claims(), { typ: 'JWT' }), 'ERR_TOKEN_TYPE')
    const noTyp = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'key-1' }).sign(key.privateKey)
    await refused(t, noTyp, 'ERR_TOKEN_TYPE')
  })

  t.test('an ID token (typ JWT, aud = client_id)', async (t) => {
    const idToken = await new SignJWT({ iss: ISSUER, sub: 'user-1', aud: 'web', exp: nowSec() + 300, iat: nowSec() })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'key-1' })
      .sign(key.privateKey)
    await refused(t, idToken, 'ERR_TOKEN_TYPE')
  })

  t.test('missing required claims', async (t) => {
    for (const claim of ['jti', 'client_id', 'sub', 'exp', 'iat']) {
      const payload = claims()
      delete payload[claim]
      await refused(t, await mint(key, payload), 'ERR_TOKEN_CLAIM')
    }
  })

  t.test('claims of the wrong type', async (t) => {
    await refused(t, await mint(key, claims({ exp: String(nowSec() + 300) as never })), 'ERR_TOKEN_CLAIM')
    await refused(t, await mint(key, claims({ scope: ['notes:read'] as never })), 'ERR_TOKEN_CLAIM')
    await refused(t, await mint(key, claims({ roles: 'admin' as never })), 'ERR_TOKEN_CLAIM')
  })

  t.test('unknown crit header', async (t) => {
    const token = await signRaw(
      key,
      { alg: 'RS256', typ: 'at+jwt', kid: 'key-1', crit: ['x-must'], 'x-must': 1 },
      claims(),
    )
    await refused(t, token, 'ERR_TOKEN_MALFORMED')
  })

  t.test('the signature is sound but the payload is not a JSON object', async (t) => {
    await refused(
      t,
      await signRaw(key, { alg: 'RS256', typ: 'at+jwt', kid: 'key-1' }, '"just a string"'),
      'ERR_TOKEN_MALFORMED',
    )
    await refused(
      t,
      await signRaw(key, { alg: 'RS256', typ: 'at+jwt', kid: 'key-1' }, 'not json'),
      'ERR_TOKEN_MALFORMED',
    )
  })

  t.test('garbage and oversized strings', async (t) => {
    for (const garbage of ['', 'abc', 'a.b', 'a.b.c', '...', 'eyJ.eyJ.sig', `${'x'.repeat(20)}.${'y'.repeat(20)}.`]) {
      await refused(t, garbage, 'ERR_TOKEN_MALFORMED')
    }
    await refused(t, 'a'.repeat(10 * 1024), 'ERR_TOKEN_TOO_LARGE')
    const big = await mint(key, claims({ pad: 'x'.repeat(10 * 1024) }))
    await refused(t, big, 'ERR_TOKEN_TOO_LARGE')
  })

  t.test('unknown kid', async (t) => {
    const other = await makeKey('key-2')
    await refused(t, await mint(other), 'ERR_TOKEN_UNKNOWN_KEY')
  })
})

t.test('options are validated eagerly', async (t) => {
  t.throws(() => createVerifier({ issuer: '', audience: AUDIENCE }), TypeError)
  t.throws(() => createVerifier({ issuer: 'not a url', audience: AUDIENCE }), TypeError)
  t.throws(() => createVerifier({ issuer: ISSUER, audience: [] }), TypeError)
})

t.test('verifiers of one issuer share a key set: one JWKS fetch, each its own audience', async (t) => {
  const own = jwksServer([key.jwk])
  const first = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: own.fetch })
  const second = createVerifier({ issuer: ISSUER, audience: 'https://other.test', keys: first.keys })
  t.equal(second.keys, first.keys)
  const other = await mint(key, claims({ aud: 'https://other.test' }))
  t.equal((await second.verify(other)).aud, 'https://other.test')
  t.equal((await first.verify(await mint(key))).aud, AUDIENCE)
  t.equal(own.state.calls, 1, 'the JWKS was fetched once for both')
  await t.rejects(first.verify(other), { code: 'ERR_TOKEN_CLAIM' }, 'the audience check stays per verifier')
})
