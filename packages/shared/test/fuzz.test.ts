// Property-based fuzzing of the verifier: whatever the input, it answers with a typed error, never anything else.
import fc from 'fast-check'
import t from 'tap'
import { createVerifier, TollgateTokenError } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint, signRaw } from './helpers.js'

const RUNS = 10_000
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
    { numRuns: RUNS, interruptAfterTimeLimit: 120_000 },
  )
  t.equal(result.failed, false, result.counterexample ? JSON.stringify(result.counterexample) : 'no counterexample')
  t.ok(result.numRuns >= RUNS, `${result.numRuns} cases`)
})

t.test('verifier: tokens signed by the real key with arbitrary claims never throw anything untyped', async (t) => {
  const result = await fc.check(
    fc.asyncProperty(
      fc.dictionary(
        fc.constantFrom('iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'roles', 'auth_time'),
        jsonValue,
      ),
      async (overrides) => {
        const token = await signRaw(key, { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, { ...claims(), ...overrides })
        try {
          const out = await verifier.verify(token)
          return typeof out.sub === 'string' && typeof out.client_id === 'string' && typeof out.scope === 'string'
        } catch (err) {
          return err instanceof TollgateTokenError
        }
      },
    ),
    { numRuns: 2_000, interruptAfterTimeLimit: 60_000 },
  )
  t.equal(result.failed, false, result.counterexample ? JSON.stringify(result.counterexample) : 'no counterexample')
})
