// Three services a user's request flows through: gateway → orders → inventory. Each one is an ordinary Fastify
// service protected by @tollgate/shared; each calls the next *as the user*, with a token exchanged (RFC 8693) for
// that next service only, narrowed to what the call needs, and naming who is acting. Every service logs the chain.
// No service holds a shared secret: each signs its token requests with a key of its own (private_key_jwt), and the
// issuer knows only the public half.
import { generateKeyPairSync } from 'node:crypto'
import { TokenClient, TokenEndpointError, tollgate } from '@tollgate/shared'
import Fastify from 'fastify'

/**
 * A service's key pair: in production generated once and kept in the service's secret store (or the platform's, a
 * Kubernetes Secret), its public JWK registered with the client. Here generated at start.
 */
function serviceKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { privateKey, kid, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } }
}
/** The keys of the two services that call others. */
export const KEYS = { gateway: serviceKey('gateway-1'), orders: serviceKey('orders-1') }

/** The bearer or DPoP token a request came with: the subject token to exchange. */
const tokenOf = (request) => request.headers.authorization.replace(/^(Bearer|DPoP) /i, '')

/** One log line per authorised call: "inventory: orders-svc ← gateway-svc acting for <sub> (stock:read)". */
const describe = (service, auth) => {
  const scopes = [...auth.scopes].join(' ')
  if (auth.actorChain.length === 0) return `${service}: ${auth.subject} signed in at ${auth.clientId} (${scopes})`
  return `${service}: ${auth.actorChain.join(' ← ')} acting for ${auth.subject} (${scopes})`
}

/**
 * Calls the next service as the user. When the issuer refuses the exchange (the user never granted what the call
 * needs, or this service may not call that one), the caller gets 403 with the OAuth error, not a 500.
 */
async function onBehalf(tokens, reply, url, init, exchange) {
  try {
    return await tokens.fetch(url, init, exchange)
  } catch (err) {
    if (!(err instanceof TokenEndpointError)) throw err
    reply.code(403).send({ error: 'delegation_refused', reason: err.error })
    return undefined
  }
}

async function listen(app) {
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url, close: () => app.close() }
}

/**
 * inventory: `GET /stock/:sku` needs `stock:read`; it answers who asked, so the example can show each hop.
 *
 * @param {{ issuer: string, audience: string, log: (line: string) => void }} options
 */
export async function startInventory({ issuer, audience, log }) {
  const app = Fastify()
  await app.register(tollgate, { issuer, audience })
  app.get('/stock/:sku', { onRequest: app.requireScope('stock:read') }, async (request) => {
    log(describe('inventory', request.auth))
    return { sku: request.params.sku, available: 3, for: request.auth.subject, via: request.auth.actorChain }
  })
  return listen(app)
}

/**
 * orders: `POST /orders` needs `orders:write`; it checks stock at inventory on the user's behalf.
 *
 * @param {{ issuer: string, audience: string, clientId: string, key: { privateKey: import('node:crypto').KeyObject, kid: string }, inventory: { url: string, audience: string }, log: (line: string) => void }} options
 */
export async function startOrders({ issuer, audience, clientId, key, inventory, log }) {
  const tokens = new TokenClient({ issuer, clientId, privateKey: key.privateKey, keyId: key.kid })
  const app = Fastify()
  await app.register(tollgate, { issuer, audience })
  app.post('/orders', { onRequest: app.requireScope('orders:write') }, async (request, reply) => {
    log(describe('orders', request.auth))
    const { sku } = request.body
    const res = await onBehalf(
      tokens,
      reply,
      `${inventory.url}/stock/${encodeURIComponent(sku)}`,
      {},
      {
        subjectToken: tokenOf(request),
        audience: inventory.audience,
        scope: 'stock:read',
      },
    )
    if (!res) return reply
    if (!res.ok) return reply.code(502).send({ error: `inventory answered ${res.status}` })
    const stock = await res.json()
    return reply.code(201).send({ sku, reserved: stock.available > 0, for: request.auth.subject, stock })
  })
  return listen(app)
}

/**
 * gateway: `POST /checkout` takes the user's token (addressed to the gateway) and places the order at orders.
 *
 * @param {{ issuer: string, audience: string, clientId: string, key: { privateKey: import('node:crypto').KeyObject, kid: string }, orders: { url: string, audience: string }, log: (line: string) => void }} options
 */
export async function startGateway({ issuer, audience, clientId, key, orders, log }) {
  const tokens = new TokenClient({ issuer, clientId, privateKey: key.privateKey, keyId: key.kid })
  const app = Fastify()
  await app.register(tollgate, { issuer, audience })
  app.post('/checkout', { onRequest: app.requireScope('orders:write') }, async (request, reply) => {
    log(describe('gateway', request.auth))
    const res = await onBehalf(
      tokens,
      reply,
      `${orders.url}/orders`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) },
      // orders needs orders:write for itself and stock:read to pass on; nothing else of the user's token.
      { subjectToken: tokenOf(request), audience: orders.audience, scope: 'orders:write stock:read' },
    )
    if (!res) return reply
    return reply.code(res.status).send(await res.json())
  })
  return listen(app)
}

/** The clients the three need at the issuer: what each may receive and what it may exchange it for. */
export const AUDIENCES = {
  gateway: 'https://gateway.example',
  orders: 'https://orders.example',
  inventory: 'https://inventory.example',
}
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const CLIENTS = [
  {
    client_id: 'web-app',
    client_secret: 'web-app-secret-0123456789abcdefghijklmnopqrs',
    grant_types: ['password'],
    scopes: ['profile', 'orders:write', 'stock:read'],
    audiences: [AUDIENCES.gateway],
  },
  {
    client_id: 'gateway-svc',
    jwks: { keys: [KEYS.gateway.jwk] },
    grant_types: [TOKEN_EXCHANGE],
    scopes: ['orders:write', 'stock:read'],
    audiences: [AUDIENCES.gateway],
    token_exchange: { subject_audiences: [AUDIENCES.gateway], audiences: [AUDIENCES.orders] },
  },
  {
    client_id: 'orders-svc',
    jwks: { keys: [KEYS.orders.jwk] },
    grant_types: [TOKEN_EXCHANGE],
    scopes: ['stock:read'],
    audiences: [AUDIENCES.orders],
    token_exchange: { subject_audiences: [AUDIENCES.orders], audiences: [AUDIENCES.inventory] },
  },
]

/** Starts all three against an issuer; `log` receives every service's line. */
export async function startAll(issuer, log) {
  const [, gatewayClient, ordersClient] = CLIENTS
  const inventory = await startInventory({ issuer, audience: AUDIENCES.inventory, log })
  const orders = await startOrders({
    issuer,
    audience: AUDIENCES.orders,
    clientId: ordersClient.client_id,
    key: KEYS.orders,
    inventory: { url: inventory.url, audience: AUDIENCES.inventory },
    log,
  })
  const gateway = await startGateway({
    issuer,
    audience: AUDIENCES.gateway,
    clientId: gatewayClient.client_id,
    key: KEYS.gateway,
    orders: { url: orders.url, audience: AUDIENCES.orders },
    log,
  })
  return {
    gateway,
    orders,
    inventory,
    close: async () => {
      await gateway.close()
      await orders.close()
      await inventory.close()
    },
  }
}
