import t from 'tap'
import { createVerifier, KeySetUnavailableError, type TollgateTokenError } from '../src/index.js'
import { AUDIENCE, ISSUER, JWKS_URI, jwksServer, makeKey, mint } from './helpers.js'

function setup(initialKeys: Parameters<typeof jwksServer>[0], jwks = {}) {
  let clock = 1_700_000_000_000
  const server = jwksServer(initialKeys)
  const events: boolean[] = []
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: JWKS_URI,
    fetch: server.fetch,
    now: () => clock,
    jwks: { cooldownMs: 30_000, maxAgeMs: 600_000, timeoutMs: 200, ...jwks },
    onJwksFetch: (e) => events.push(e.ok),
  })
  return { server, verifier, events, advance: (ms: number) => (clock += ms) }
}

// Tokens carry real time claims; the key set's own clock is what these tests move.
const key1 = await makeKey('k1')
const key2 = await makeKey('k2')

t.test('keys are fetched lazily, once, and reused', async (t) => {
  const { server, verifier, events } = setup([key1.jwk])
  t.equal(server.state.calls, 0, 'nothing fetched before the first token')
  t.equal(verifier.keys.loaded, false)
  await verifier.verify(await mint(key1))
  await verifier.verify(await mint(key1))
  t.equal(server.state.calls, 1)
  t.equal(verifier.keys.loaded, true)
  t.same(events, [true])
})

t.test('an unknown kid refetches at most once per cooldown', async (t) => {
  const { server, verifier, advance } = setup([key1.jwk])
  await verifier.verify(await mint(key1))
  server.state.keys = [key1.jwk, key2.jwk]
  advance(31_000)
  t.equal((await verifier.verify(await mint(key2))).sub, 'user-1', 'new key picked up by refetch')
  t.equal(server.state.calls, 2)
  const key3 = await makeKey('k3')
  for (let i = 0; i < 20; i++) {
    const err = (await verifier.verify(await mint(key3)).catch((e) => e)) as TollgateTokenError
    t.equal(err.code, 'ERR_TOKEN_UNKNOWN_KEY')
  }
  t.equal(server.state.calls, 2, 'no refetch storm within the cooldown')
})

t.test('a service started before its issuer loads keys soon after the issuer comes up', async (t) => {
  const { server, verifier, advance } = setup([key1.jwk])
  const token = await mint(key1)
  server.state.mode = 'error'
  t.type(await verifier.verify(token).catch((e) => e), KeySetUnavailableError)
  t.equal(server.state.calls, 1)
  t.type(await verifier.verify(token).catch((e) => e), KeySetUnavailableError)
  t.equal(server.state.calls, 1, 'no fetch per request while the issuer is down')
  server.state.mode = 'ok'
  advance(100)
  t.equal((await verifier.verify(token)).sub, 'user-1', '100 ms later the next request fetches again')
  t.equal(server.state.calls, 2)
})

t.test('concurrent unknown-kid requests share one fetch', async (t) => {
  const { server, verifier } = setup([key1.jwk, key2.jwk])
  const token = await mint(key2)
  await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)))
  t.equal(server.state.calls, 1)
})

for (const mode of ['error', 'garbage', 'hang', 'empty'] as const) {
  t.test(`JWKS endpoint ${mode}: known keys keep verifying`, async (t) => {
    const { server, verifier, advance } = setup([key1.jwk])
    const token = await mint(key1)
    await verifier.verify(token)
    server.state.mode = mode
    advance(700_000) // past max age: a background refresh is attempted and fails
    for (let i = 0; i < 5; i++) t.equal((await verifier.verify(token)).sub, 'user-1')
    await verifier.keys.refresh().catch(() => {})
    t.equal((await verifier.verify(token)).sub, 'user-1', 'still served from the last good set')
    t.ok(verifier.keys.stats.failures >= 1)
    t.equal(verifier.keys.stats.keys, 1)
  })
}

t.test('a stale set is refreshed in the background without delaying requests', async (t) => {
  const { server, verifier, advance } = setup([key1.jwk])
  await verifier.verify(await mint(key1))
  server.state.mode = 'hang'
  advance(700_000)
  const started = Date.now()
  await verifier.verify(await mint(key1))
  t.ok(Date.now() - started < 150, 'answered without waiting for the hanging fetch')
})

t.test('no keys and an unreachable JWKS is a 503, not a 401', async (t) => {
  const { server, verifier } = setup([key1.jwk])
  server.state.mode = 'error'
  const err = (await verifier.verify(await mint(key1)).catch((e) => e)) as TollgateTokenError
  t.ok(err instanceof KeySetUnavailableError)
  t.equal(err.status, 503)
})

t.test('a hanging JWKS fetch is abandoned after the timeout', async (t) => {
  const { server, verifier } = setup([key1.jwk])
  server.state.mode = 'hang'
  const started = Date.now()
  const err = (await verifier.verify(await mint(key1)).catch((e) => e)) as TollgateTokenError
  t.equal(err.code, 'ERR_JWKS_UNAVAILABLE')
  t.ok(Date.now() - started < 2_000)
  server.state.mode = 'ok'
})

t.test('a key removed from the JWKS stops verifying after a refresh', async (t) => {
  const { server, verifier } = setup([key1.jwk, key2.jwk])
  await verifier.verify(await mint(key1))
  server.state.keys = [key2.jwk]
  await verifier.keys.refresh()
  const err = (await verifier.verify(await mint(key1)).catch((e) => e)) as TollgateTokenError
  t.equal(err.code, 'ERR_TOKEN_UNKNOWN_KEY')
})

t.test('JWKS entries that are not RS256, ES256 or EdDSA signing keys are ignored', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto')
  const jwk = (key: import('node:crypto').KeyObject, kid: string) => ({ ...key.export({ format: 'jwk' }), kid })
  const ec = jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ec')
  const ed = { ...jwk(generateKeyPairSync('ed25519').publicKey, 'ed'), alg: 'EdDSA' }
  const p384 = jwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, 'p384')
  const enc = { ...key2.jwk, use: 'enc' }
  const ps = { ...key1.jwk, kid: 'ps', alg: 'PS256' }
  const ecAsRsa = { ...ec, kid: 'ec-rs', alg: 'RS256' }
  const { verifier } = setup([key1.jwk, ec, ed, p384, enc, ps, ecAsRsa, { kty: 'EC', kid: 'x' }, 'junk' as never])
  await verifier.keys.refresh()
  t.equal(verifier.keys.stats.keys, 3)
  for (const kid of ['k1', 'ec', 'ed']) t.ok(verifier.keys.hasKid(kid), kid)
})

t.test('discovery: jwks_uri comes from the issuer metadata, whose issuer must match', async (t) => {
  const calls: string[] = []
  const fetch = (async (url: string | URL) => {
    calls.push(String(url))
    if (String(url).endsWith('/.well-known/oauth-authorization-server')) {
      return Response.json({ issuer: ISSUER, jwks_uri: JWKS_URI })
    }
    return Response.json({ keys: [key1.jwk] })
  }) as typeof globalThis.fetch
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, fetch })
  await verifier.verify(await mint(key1))
  t.same(calls, [`${ISSUER}/.well-known/oauth-authorization-server`, JWKS_URI])

  const liar = (async () =>
    Response.json({ issuer: 'https://evil.test', jwks_uri: JWKS_URI })) as typeof globalThis.fetch
  const refusing = createVerifier({ issuer: ISSUER, audience: AUDIENCE, fetch: liar })
  const err = (await refusing.verify(await mint(key1)).catch((e) => e)) as TollgateTokenError
  t.equal(err.code, 'ERR_JWKS_UNAVAILABLE')
})
