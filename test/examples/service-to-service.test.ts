// An example service calling another one: `orders` asks `inventory` for stock with a token from TokenClient.
// Both are ordinary Fastify services protected by @tollgate/shared; the issuer is the real server, in-process.
import { createTestIssuer } from '@tollgate/auth-server/testing'
import { TokenClient, TokenEndpointError, tollgate } from '@tollgate/shared'
import Fastify from 'fastify'
import t from 'tap'

const INVENTORY = 'http://inventory.test'
const issuer = await createTestIssuer({
  clients: [
    {
      client_id: 'orders-svc',
      client_secret: 'orders-svc-secret-0123456789abcdefghijklmnop',
      grant_types: ['client_credentials'],
      scopes: ['stock:read'],
      audiences: [INVENTORY],
    },
  ],
})
t.teardown(() => issuer.close())

// inventory: GET /stock/:sku needs stock:read.
const inventory = Fastify()
await inventory.register(tollgate, { issuer: issuer.url, audience: INVENTORY })
let stockCalls = 0
inventory.get('/stock/:sku', { onRequest: inventory.requireScope('stock:read') }, async (request) => {
  stockCalls++
  return { sku: (request.params as { sku: string }).sku, available: 7, caller: request.auth?.clientId }
})
const inventoryUrl = await inventory.listen({ port: 0, host: '127.0.0.1' })
t.teardown(() => inventory.close())

// orders: POST /orders checks stock at inventory, authenticating as orders-svc.
function ordersService(tokens: TokenClient) {
  const app = Fastify()
  app.post('/orders', async (request, reply) => {
    const { sku } = request.body as { sku: string }
    const call = async () =>
      fetch(`${inventoryUrl}/stock/${encodeURIComponent(sku)}`, {
        headers: { authorization: `Bearer ${await tokens.getToken()}` },
      })
    let res = await call()
    if (res.status === 401) {
      tokens.invalidate() // e.g. the token was revoked or its key retired: get a fresh one, once
      res = await call()
    }
    if (!res.ok) return reply.code(502).send({ error: 'inventory unavailable' })
    const stock = (await res.json()) as { available: number; caller: string }
    return reply.code(201).send({ sku, reserved: stock.available > 0, checkedAs: stock.caller })
  })
  return app
}

const tokens = new TokenClient({
  issuer: issuer.url,
  clientId: 'orders-svc',
  clientSecret: 'orders-svc-secret-0123456789abcdefghijklmnop',
  scope: 'stock:read',
  resource: INVENTORY,
})
const orders = ordersService(tokens)
t.teardown(() => orders.close())

t.test('orders calls inventory with its own token; one token serves many calls', async (t) => {
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      orders.inject({ method: 'POST', url: '/orders', payload: { sku: `sku-${i}` } }),
    ),
  )
  t.same(
    results.map((r) => r.statusCode),
    Array(20).fill(201),
  )
  t.same(results[0]?.json(), { sku: 'sku-0', reserved: true, checkedAs: 'orders-svc' })
  t.equal(stockCalls, 20)
  const tokensIssued = (await (await fetch(`${issuer.url}/metrics`)).text()).match(
    /tollgate_tokens_issued_total\{grant="client_credentials"\} (\d+)/,
  )
  t.equal(tokensIssued?.[1], '1', 'the issuer signed exactly one token for 20 calls')
})

t.test('a wrong secret is a typed error, not a retry loop', async (t) => {
  const wrong = new TokenClient({ issuer: issuer.url, clientId: 'orders-svc', clientSecret: 'nope'.repeat(10) })
  const err = await wrong.getToken().catch((e: unknown) => e)
  t.type(err, TokenEndpointError)
  t.equal((err as TokenEndpointError).error, 'invalid_client')
})
