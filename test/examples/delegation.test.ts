// The delegation example (examples/delegation): a user's checkout flows gateway → orders → inventory, each hop with
// a token exchanged for the next service only, narrowed, and naming the actors; each service logs the chain.
import { createTestIssuer } from '@tollgate/auth-server/testing'
import { TokenClient, TokenEndpointError } from '@tollgate/shared'
import t from 'tap'
import { AUDIENCES, CLIENTS, KEYS, startAll } from '../../examples/delegation/services.mjs'

const PASSWORD = 'alice-password-123'
const issuer = await createTestIssuer({ clients: CLIENTS, users: [{ username: 'alice', password: PASSWORD }] })
t.teardown(() => issuer.close())
const lines: string[] = []
const services = await startAll(issuer.url, (line: string) => lines.push(line))
t.teardown(() => services.close())

const web = CLIENTS[0] as { client_id: string; client_secret: string }
const basic = (c: { client_id: string; client_secret: string }) =>
  `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}`
async function signIn(scope = 'profile orders:write stock:read') {
  const res = await fetch(issuer.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(web) },
    body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: PASSWORD, scope }),
  })
  return (await res.json()) as { access_token: string }
}
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString())
const checkout = (token: string) =>
  fetch(`${services.gateway.url}/checkout`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'tea-42' }),
  })

t.test('the checkout reaches inventory as the user, with the actor chain in every log', async (t) => {
  const { access_token } = await signIn()
  const sub = claimsOf(access_token).sub
  lines.length = 0
  const res = await checkout(access_token)
  t.equal(res.status, 201)
  t.match(await res.json(), { reserved: true, for: sub, stock: { for: sub, via: ['orders-svc', 'gateway-svc'] } })
  t.same(lines, [
    `gateway: ${sub} signed in at web-app (profile orders:write stock:read)`,
    `orders: gateway-svc acting for ${sub} (orders:write stock:read)`,
    `inventory: orders-svc ← gateway-svc acting for ${sub} (stock:read)`,
  ])
})

t.test('each hop accepts only tokens addressed to it', async (t) => {
  const { access_token } = await signIn()
  t.equal(
    (await fetch(`${services.inventory.url}/stock/x`, { headers: { authorization: `Bearer ${access_token}` } })).status,
    401,
    "the user's gateway token does not open inventory",
  )
  const orders = await fetch(`${services.orders.url}/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
    body: '{"sku":"x"}',
  })
  t.equal(orders.status, 401, 'nor orders')
  // The gateway's token for orders cannot be exchanged by the gateway for inventory: not one of its audiences.
  const gateway = new TokenClient({
    issuer: issuer.url,
    clientId: 'gateway-svc',
    privateKey: KEYS.gateway.privateKey,
    keyId: KEYS.gateway.kid,
  })
  const err = await gateway.exchange(access_token, { audience: AUDIENCES.inventory }).catch((e) => e)
  t.ok(err instanceof TokenEndpointError)
  t.equal(err.error, 'invalid_target', 'the gateway may not skip a hop')
})

t.test('no service holds a shared secret: they authenticate with their keys', async (t) => {
  for (const id of ['gateway-svc', 'orders-svc']) {
    const client = CLIENTS.find((c) => c.client_id === id) as Record<string, unknown>
    t.notOk('client_secret' in client, id)
    t.ok(client.jwks, id)
  }
})

t.test(
  'a user without orders:write is stopped at the gateway; one who did not grant stock:read, at orders',
  async (t) => {
    t.equal((await checkout((await signIn('profile')).access_token)).status, 403)
    const res = await checkout((await signIn('orders:write')).access_token)
    t.equal(res.status, 403, 'the gateway cannot ask for stock:read the user never granted')
    t.same(await res.json(), { error: 'delegation_refused', reason: 'invalid_scope' })
  },
)
