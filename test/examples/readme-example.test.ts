// The README's example: a team's own Fastify service, tested against the real Tollgate issuer in a few lines.
import { createTestIssuer } from '@tollgate/auth-server/testing'
import { TokenClient, tollgate } from '@tollgate/shared'
import Fastify from 'fastify'
import t from 'tap'

// The service under test: GET /orders needs a token with `orders:read` for this audience.
async function buildOrdersService(issuer: string) {
  const app = Fastify()
  await app.register(tollgate, { issuer, audience: 'http://orders.test' })
  app.get('/orders', { onRequest: app.requireScope('orders:read') }, async (request) => ({
    caller: request.auth?.clientId,
    orders: [],
  }))
  return app
}

const issuer = await createTestIssuer({ audience: 'http://orders.test', scopes: ['orders:read'] })
t.teardown(() => issuer.close())
const orders = await buildOrdersService(issuer.url)
t.teardown(() => orders.close())

t.test('a token from the issuer, through TokenClient, opens GET /orders', async (t) => {
  const tokens = new TokenClient({
    issuer: issuer.url,
    clientId: issuer.client.clientId,
    clientSecret: issuer.client.clientSecret,
    scope: 'orders:read',
  })
  const res = await orders.inject({ url: '/orders', headers: { authorization: `Bearer ${await tokens.getToken()}` } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { caller: 'test-client', orders: [] })
})

t.test('without the scope: 403 insufficient_scope', async (t) => {
  const token = await issuer.mintAccessToken({ scope: 'profile' })
  const res = await orders.inject({ url: '/orders', headers: { authorization: `Bearer ${token}` } })
  t.equal(res.statusCode, 403)
  t.match(res.headers['www-authenticate'], /insufficient_scope/)
})
