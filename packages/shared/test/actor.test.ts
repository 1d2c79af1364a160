// After a token exchange (RFC 8693) a service sees who acts for whom: request.auth.actor and actorChain from `act`;
// an `act` of the wrong shape, or nested past the bound, is refused like any other bad claim.
import Fastify from 'fastify'
import t from 'tap'
import { MAX_ACTOR_DEPTH, tollgate } from '../src/index.js'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint } from './helpers.js'

const key = await makeKey('k1')
const jwks = jwksServer([key.jwk])
const app = Fastify()
await app.register(tollgate, { issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: jwks.fetch })
app.get('/who', { onRequest: app.authenticate }, async (request) => ({
  subject: request.auth?.subject,
  actor: request.auth?.actor ?? null,
  chain: request.auth?.actorChain,
}))
t.teardown(() => app.close())
const who = async (act: unknown) => {
  const token = await mint(key, claims(act === undefined ? {} : { act }))
  return app.inject({ url: '/who', headers: { authorization: `Bearer ${token}` } })
}

t.test('the actor chain, current actor first', async (t) => {
  t.same((await who(undefined)).json(), { subject: 'user-1', actor: null, chain: [] }, 'no exchange, no actor')
  t.same((await who({ sub: 'orders-svc' })).json(), { subject: 'user-1', actor: 'orders-svc', chain: ['orders-svc'] })
  const nested = { sub: 'inventory-svc', act: { sub: 'orders-svc', act: { sub: 'gateway' } } }
  t.same((await who(nested)).json(), {
    subject: 'user-1',
    actor: 'inventory-svc',
    chain: ['inventory-svc', 'orders-svc', 'gateway'],
  })
})

t.test('an act claim of the wrong shape is refused', async (t) => {
  let deep: Record<string, unknown> = { sub: 'a0' }
  for (let i = 1; i <= MAX_ACTOR_DEPTH; i++) deep = { sub: `a${i}`, act: deep }
  for (const [what, act] of [
    ['a string', 'orders-svc'],
    ['no sub', { client_id: 'orders-svc' }],
    ['an empty sub', { sub: '' }],
    ['a nested act without sub', { sub: 'orders-svc', act: { iss: 'x' } }],
    ['an array', [{ sub: 'orders-svc' }]],
    [`nested past ${MAX_ACTOR_DEPTH}`, deep],
  ] as const) {
    const res = await who(act)
    t.equal(res.statusCode, 401, what)
    t.match(
      String(res.headers['www-authenticate']),
      /error="invalid_token", error_description="\\"act\\" claim has the wrong type"/,
      what,
    )
  }
})
