// Property-based fuzzing of the verifier and the Fastify plugin: whatever the input, the verifier answers with a typed
// error and the plugin with an RFC 6750 answer — never anything else, never a 5xx.
//   FUZZ_RUNS=100000 pnpm exec tap packages/shared/test/fuzz.test.ts   (a longer run; FUZZ_SEED=… replays one)
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import Fastify from 'fastify'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { createVerifier, TollgateTokenError, tollgate } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint, nowSec, signRaw } from './helpers.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000)
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
const LIMIT = RUNS > 10_000 ? 3_600_000 : 120_000
t.comment(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${RUNS} cases per property`)
const key = await makeKey('k1')
const verifier = createVerifier({
  issuer: ISSUER,
  audience: AUDIENCE,
  jwksUri: JWKS_URI,
  fetch: jwksServer([key.jwk]).fetch,
})
const valid = await mint(key)

const b64 = (s: string) => Buffer.from(s).toString('base64url')
const jsonValue = fc.jsonValue({ maxDepth: 3 })
const anyToken = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.tuple(fc.string(), fc.string(), fc.string()).map(([a, b, c]) => `${b64(a)}.${b64(b)}.${b64(c)}`),
  fc.tuple(jsonValue, jsonValue).map(([h, p]) => `${b64(JSON.stringify(h))}.${b64(JSON.stringify(p))}.c2ln`),
  fc
    .tuple(fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 6 }), jsonValue)
    .map(
      ([h, p]) =>
        `${b64(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'k1', ...h }))}.${b64(JSON.stringify(p))}.${valid.split('.')[2]}`,
    ),
  fc
    .tuple(fc.nat({ max: valid.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
    .map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
)

t.test(`verifier: ${RUNS} arbitrary tokens, only typed errors`, async (t) => {
  const result = await fc.check(
    fc.asyncProperty(anyToken, async (token) => {
      try {
        await verifier.verify(token)
        return token === valid
      } catch (err) {
        return err instanceof TollgateTokenError && err.status === 401
      }
    }),
    { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: LIMIT },
  )
  t.equal(result.failed, false, result.counterexample ? JSON.stringify(result.counterexample) : 'no counterexample')
  t.ok(result.numRuns >= RUNS, `${result.numRuns} cases`)
})

t.test('verifier: tokens signed by the real key with arbitrary claims never throw anything untyped', async (t) => {
  const result = await fc.check(
    fc.asyncProperty(
      fc.dictionary(
        fc.constantFrom(
          'iss',
          'sub',
          'aud',
          'exp',
          'iat',
          'nbf',
          'jti',
          'client_id',
          'scope',
          'roles',
          'auth_time',
          'sid',
          'cnf',
          'act',
        ),
        fc.oneof(jsonValue, fc.double(), fc.constantFrom(1e14, 1e308, 2 ** 53, -1, 0.5, '', '\u0000', [], [null], {})),
      ),
      async (overrides) => {
        const token = await signRaw(key, { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, { ...claims(), ...overrides })
        try {
          const out = await verifier.verify(token)
          const aud = out.aud
          return (
            typeof out.sub === 'string' &&
            typeof out.client_id === 'string' &&
            typeof out.scope === 'string' &&
            Number.isSafeInteger(out.exp * 1000) &&
            (typeof aud === 'string' ||
              (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')))
          )
        } catch (err) {
          return err instanceof TollgateTokenError
        }
      },
    ),
    { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: LIMIT },
  )
  t.equal(result.failed, false, result.counterexample ? JSON.stringify(result.counterexample) : 'no counterexample')
})

t.test('plugin: any Host, any Authorization, any DPoP header: 200, 400, 401 or 403 with a JSON body', async (t) => {
  const app = Fastify()
  await app.register(tollgate, {
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: JWKS_URI,
    fetch: jwksServer([key.jwk]).fetch,
  })
  app.get('/me', { onRequest: app.authenticate }, async () => ({ ok: true }))
  app.post('/notes', { onRequest: app.requireScope('notes:write') }, async () => ({ ok: true }))
  const pair = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(pair.publicKey)
  const proof = (htu: string) =>
    new SignJWT({ htm: 'GET', htu, jti: randomBytes(9).toString('base64url'), iat: nowSec() })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .sign(pair.privateKey)
  const host = fc.oneof(
    fc.constantFrom('api.test', 'a b', '%', '[zz]', 'a|b', 'x:99999', 'ex ample.com'),
    fc.string({ maxLength: 20 }),
  )
  const scheme = fc.constantFrom('Bearer', 'DPoP', 'dpop', 'Basic', '')
  const credential = fc.oneof(anyToken, fc.constant(valid))
  const result = await fc.check(
    fc.asyncProperty(
      host,
      scheme,
      credential,
      fc.boolean(),
      fc.constantFrom('/me', '/notes'),
      async (h, sc, cred, withProof, url) => {
        const headers: Record<string, string> = {}
        if (/^[\x21-\x7e]+$/.test(h)) headers.host = h
        const auth = `${sc} ${cred}`.trim()
        if (/^[\x20-\x7e]*$/.test(auth)) headers.authorization = auth
        if (withProof) headers.dpop = await proof('http://api.test/me')
        const res = await app.inject({ method: url === '/me' ? 'GET' : 'POST', url, headers })
        if (![200, 400, 401, 403].includes(res.statusCode)) return false
        if (res.statusCode === 200) return true
        const body = res.json() as Record<string, unknown>
        return typeof body.error_description === 'string' && !/\n\s+at /.test(res.body)
      },
    ),
    { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: LIMIT },
  )
  t.equal(
    result.failed,
    false,
    result.counterexample ? JSON.stringify(result.counterexample).slice(0, 500) : 'no counterexample',
  )
  t.ok(result.numRuns >= RUNS, `${result.numRuns} cases`)
})
