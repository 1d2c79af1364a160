import t from 'tap'
import { createVerifier, type TollgateTokenError } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint } from './helpers.js'

const key1 = await makeKey('k1')
const key2 = await makeKey('k2')

function setup(cache?: { maxEntries?: number } | false) {
  let clock = Date.now()
  const server = jwksServer([key1.jwk, key2.jwk])
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: JWKS_URI,
    fetch: server.fetch,
    now: () => clock,
    ...(cache === undefined ? {} : { cache }),
  })
  return { verifier, server, advance: (ms: number) => (clock += ms) }
}

t.test('a verified token is answered from the cache', async (t) => {
  const { verifier } = setup()
  const token = await mint(key1)
  const first = await verifier.verify(token)
  const second = await verifier.verify(token)
  t.equal(second, first, 'the same frozen claims object')
  t.ok(Object.isFrozen(first))
})

t.test('a cached token stops being accepted at exp (plus the clock tolerance), never later', async (t) => {
  const { verifier, advance } = setup()
  const now = Math.floor(Date.now() / 1000)
  const token = await mint(key1, claims({ iat: now, exp: now + 60 }))
  await verifier.verify(token)
  advance(64_000)
  t.equal((await verifier.verify(token)).sub, 'user-1', 'within the 5 s tolerance')
  advance(2_000)
  const err = (await verifier.verify(token).catch((e) => e)) as TollgateTokenError
  t.equal(err.code, 'ERR_TOKEN_EXPIRED')
})

t.test('a cached token stops being accepted once its key leaves the JWKS', async (t) => {
  const { verifier, server } = setup()
  const token = await mint(key1)
  await verifier.verify(token)
  server.state.keys = [key2.jwk]
  await verifier.keys.refresh()
  const err = (await verifier.verify(token).catch((e) => e)) as TollgateTokenError
  t.equal(err.code, 'ERR_TOKEN_UNKNOWN_KEY')
})

t.test('the cache is bounded; evicted tokens are simply verified again', async (t) => {
  const { verifier } = setup({ maxEntries: 2 })
  const tokens = await Promise.all([1, 2, 3].map((i) => mint(key1, claims({ jti: `j${i}` }))))
  const first = await verifier.verify(tokens[0] as string)
  await verifier.verify(tokens[1] as string)
  await verifier.verify(tokens[2] as string)
  const again = await verifier.verify(tokens[0] as string)
  t.not(again, first, 'evicted, so verified anew')
  t.same(again, first)
})

t.test('cache: false verifies every time', async (t) => {
  const { verifier } = setup(false)
  const token = await mint(key1)
  t.not(await verifier.verify(token), await verifier.verify(token))
})

t.test('invalid tokens are never cached', async (t) => {
  const { verifier } = setup()
  const token = await mint(key1, claims({ aud: 'https://other.test' }))
  for (let i = 0; i < 3; i++) {
    const err = (await verifier.verify(token).catch((e) => e)) as TollgateTokenError
    t.equal(err.code, 'ERR_TOKEN_CLAIM')
  }
})

t.test(
  'a cache hit must be the whole token: a forgery sharing the signature tail is verified, and refused',
  async (t) => {
    const { verifier } = setup()
    const token = await mint(key1)
    await verifier.verify(token)
    // Same last characters (the cache's key), one signature character changed before them.
    const at = token.length - 10
    const forged = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1)
    t.equal(verifier.cached(forged), undefined, 'not answered from the cache')
    const err = (await verifier.verify(forged).catch((e) => e)) as TollgateTokenError
    t.equal(err.code, 'ERR_TOKEN_SIGNATURE')
    t.ok(verifier.cached(token), 'the genuine token is still cached')
  },
)
