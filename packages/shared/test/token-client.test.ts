// TokenClient against a scriptable token endpoint: caching, single flight, retries, discovery, typed errors.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import {
  DiscoveryError,
  TokenClient,
  type TokenClientOptions,
  TokenEndpointError,
  TokenRequestError,
} from '../src/index.js'

type Handler = (req: IncomingMessage, body: URLSearchParams, res: ServerResponse) => void

interface FakeServer {
  readonly issuer: string
  readonly tokenRequests: URLSearchParams[]
  readonly authorizations: (string | undefined)[]
  discoveries: number
  /** Answers the next token requests in order; afterwards, tokens. */
  script: Handler[]
  metadataIssuer?: string
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
}

let counter = 0
const grant: Handler = (_req, body, res) => {
  counter++
  json(res, 200, {
    access_token: `at-${counter}`,
    token_type: 'Bearer',
    expires_in: 300,
    scope: body.get('scope') ?? 'default',
    ...(body.get('grant_type') === 'refresh_token' ? { refresh_token: `rt-${counter}` } : {}),
  })
}

async function fakeServer(t: Test): Promise<FakeServer> {
  const state = {
    issuer: '',
    tokenRequests: [] as URLSearchParams[],
    authorizations: [] as (string | undefined)[],
    discoveries: 0,
    script: [] as Handler[],
    metadataIssuer: undefined as string | undefined,
  }
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (d) => {
      raw += d
    })
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/.well-known/oauth-authorization-server') {
        state.discoveries++
        return json(res, 200, { issuer: state.metadataIssuer ?? state.issuer, token_endpoint: `${state.issuer}/token` })
      }
      if (req.method === 'POST' && req.url === '/token') {
        const body = new URLSearchParams(raw)
        state.tokenRequests.push(body)
        state.authorizations.push(req.headers.authorization)
        // Answer a little later, so concurrent callers really overlap the request.
        setTimeout(() => (state.script.shift() ?? grant)(req, body, res), 20)
        return
      }
      json(res, 404, { error: 'not_found' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return state
}

const client = (server: FakeServer, options: Partial<TokenClientOptions> = {}) =>
  new TokenClient({
    issuer: server.issuer,
    clientId: 'orders-svc',
    clientSecret: 'orders secret/with:odd chars',
    retryDelayMs: 1,
    ...options,
  })

t.test('100 concurrent getToken() calls on a cold client make exactly one token request', async (t) => {
  const server = await fakeServer(t)
  const tokens = client(server, { scope: ['stock:read', 'stock:write'], resource: 'https://stock.example' })
  const results = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken()))
  t.equal(server.tokenRequests.length, 1)
  t.equal(server.discoveries, 1)
  t.equal(new Set(results).size, 1, 'every caller got the same token')
  const body = server.tokenRequests[0] as URLSearchParams
  t.equal(body.get('grant_type'), 'client_credentials')
  t.equal(body.get('scope'), 'stock:read stock:write')
  t.equal(body.get('resource'), 'https://stock.example')
  t.notOk(body.has('client_secret'), 'the secret travels in the Authorization header only')
  const basic = Buffer.from((server.authorizations[0] as string).slice(6), 'base64').toString()
  t.equal(basic, 'orders-svc:orders+secret%2Fwith%3Aodd+chars', 'RFC 6749 §2.3.1 form-encoding before base64')
})

t.test('the token is cached until shortly before it expires', async (t) => {
  const server = await fakeServer(t)
  let now = 1_000_000
  const tokens = client(server, { now: () => now, expiryMarginMs: 30_000 })
  const first = await tokens.getToken()
  now += 269_000 // 31 s left
  t.equal(await tokens.getToken(), first)
  t.equal(server.tokenRequests.length, 1)
  now += 2_000 // 29 s left: inside the margin
  const second = await tokens.getToken()
  t.not(second, first)
  t.equal(server.tokenRequests.length, 2)
  tokens.invalidate()
  t.not(await tokens.getToken(), second, 'invalidate() forces a new token')
  t.equal(server.discoveries, 1, 'discovery happens once')
})

t.test('5xx and network errors are retried with backoff; the caller sees only the success', async (t) => {
  const server = await fakeServer(t)
  server.script = [
    (_req, _body, res) => json(res, 503, { error: 'temporarily_unavailable' }),
    (req) => req.socket.destroy(),
    (_req, _body, res) => json(res, 500, { error: 'server_error' }),
  ]
  const token = await client(server, { retries: 3 }).getToken()
  t.match(token, /^at-/)
  t.equal(server.tokenRequests.length, 4)
})

t.test('after the last retry: TokenRequestError with the last status', async (t) => {
  const server = await fakeServer(t)
  const unavailable: Handler = (_req, _body, res) => json(res, 503, { error: 'temporarily_unavailable' })
  server.script = [unavailable, unavailable, unavailable]
  const tokens = client(server, { retries: 2 })
  const err = await tokens.getToken().catch((e: unknown) => e)
  t.type(err, TokenRequestError)
  t.equal((err as TokenRequestError).status, 503)
  t.equal(server.tokenRequests.length, 3)
  t.match(await tokens.getToken(), /^at-/, 'a failure is not cached: the next call tries again')
})

t.test('a 4xx is never retried and surfaces as TokenEndpointError with the OAuth code', async (t) => {
  const server = await fakeServer(t)
  server.script = [
    (_req, _body, res) =>
      json(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' }),
  ]
  const err = await client(server)
    .getToken()
    .catch((e: unknown) => e)
  t.type(err, TokenEndpointError)
  t.equal((err as TokenEndpointError).error, 'invalid_client')
  t.equal((err as TokenEndpointError).status, 401)
  t.equal((err as TokenEndpointError).description, 'client authentication failed')
  t.equal(server.tokenRequests.length, 1)
})

t.test('a request that hangs times out and is retried', async (t) => {
  const server = await fakeServer(t)
  server.script = [() => {}] // never answers
  const token = await client(server, { timeoutMs: 200 }).getToken()
  t.match(token, /^at-/)
  t.equal(server.tokenRequests.length, 2)
})

t.test('refresh grant: each rotation is kept and reported, one refresh in flight', async (t) => {
  const server = await fakeServer(t)
  const seen: string[] = []
  let now = 5_000_000
  const tokens = client(server, {
    refreshToken: 'rt-initial',
    now: () => now,
    onRefreshToken: (rt) => {
      seen.push(rt)
    },
  })
  await Promise.all([tokens.getToken(), tokens.getToken(), tokens.getToken()])
  t.equal(server.tokenRequests.length, 1)
  t.equal(server.tokenRequests[0]?.get('grant_type'), 'refresh_token')
  t.equal(server.tokenRequests[0]?.get('refresh_token'), 'rt-initial')
  const rotated = tokens.refreshToken as string
  t.match(rotated, /^rt-/)
  now += 300_000
  await tokens.getToken()
  t.equal(server.tokenRequests[1]?.get('refresh_token'), rotated, 'the next refresh presents the rotated token')
  t.same(seen, [rotated, tokens.refreshToken])
})

t.test('client_secret_post and public clients', async (t) => {
  const server = await fakeServer(t)
  await client(server, { authMethod: 'client_secret_post' }).getToken()
  const discoveries = server.discoveries
  t.equal(server.tokenRequests[0]?.get('client_id'), 'orders-svc')
  t.equal(server.tokenRequests[0]?.get('client_secret'), 'orders secret/with:odd chars')
  t.equal(server.authorizations[0], undefined)
  await new TokenClient({ tokenEndpoint: `${server.issuer}/token`, clientId: 'spa', refreshToken: 'rt-x' }).getToken()
  t.equal(server.tokenRequests[1]?.get('client_id'), 'spa')
  t.notOk(server.tokenRequests[1]?.has('client_secret'))
  t.equal(server.discoveries, discoveries, 'a given token endpoint skips discovery')
})

t.test('discovery refuses metadata naming another issuer', async (t) => {
  const server = await fakeServer(t)
  server.metadataIssuer = 'https://evil.example'
  const err = await client(server)
    .getToken()
    .catch((e: unknown) => e)
  t.type(err, DiscoveryError)
  t.match((err as Error).message, /evil\.example/)
  t.equal(server.tokenRequests.length, 0)
})

t.test('an unreachable issuer fails with TokenRequestError after the retries', async (t) => {
  const tokens = new TokenClient({ issuer: 'http://127.0.0.1:1', clientId: 'x', retries: 1, retryDelayMs: 1 })
  const err = await tokens.getToken().catch((e: unknown) => e)
  t.type(err, TokenRequestError)
})

t.test('bad options are refused at construction', async (t) => {
  t.throws(() => new TokenClient({ clientId: 'x' }), TypeError)
  t.throws(() => new TokenClient({ issuer: 'http://a', clientId: 'x', authMethod: 'client_secret_basic' }), TypeError)
})
