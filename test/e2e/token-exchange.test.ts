// Token exchange (RFC 8693) with real processes: a user's token addressed to the gateway becomes, hop by hop, a
// token for orders and then one for the resource API — same user and session, narrower scope, `act` naming who acts,
// never outliving the original — and every way to ask for more than that is refused as the SPEC lists.
import { TokenClient } from '@tollgate/shared'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import {
  ALICE,
  BFF,
  GATEWAY,
  GATEWAY_AUD,
  ORDERS,
  ORDERS_AUD,
  SERVICE,
  TOKEN_EXCHANGE,
  tokenRequest,
  WEB,
} from '../support/fixtures.js'
import { sleep } from '../support/load.js'
import type { Service } from '../support/services.js'

const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'
const stack = await startE2e(t, { api: true })
const { issuer, tokenUrl, audience } = stack
const api = stack.api as Service

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
const basic = (c: { id: string; secret: string }) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`

/** Alice signs in at the web BFF for the gateway: the token the gateway receives. */
async function aliceAtGateway(scope = 'openid profile notes:read notes:write') {
  const res = await tokenRequest(
    tokenUrl,
    { grant_type: 'password', username: ALICE.username, password: ALICE.password, scope, resource: GATEWAY_AUD },
    BFF,
  )
  if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`)
  return { access: res.body.access_token as string, refresh: res.body.refresh_token as string }
}

const exchange = (client: { id: string; secret: string }, fields: Record<string, string>) =>
  tokenRequest(tokenUrl, { grant_type: TOKEN_EXCHANGE, subject_token_type: ACCESS_TOKEN, ...fields }, client)

const me = (token: string) => fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })

t.test('metadata lists the grant', async (t) => {
  const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()
  t.ok(metadata.grant_types_supported.includes(TOKEN_EXCHANGE))
})

t.test(
  'gateway → orders → API: same user and session, narrowed, act nested, never outliving the original',
  async (t) => {
    const user = await aliceAtGateway()
    const subject = claimsOf(user.access)
    t.equal((await me(user.access)).status, 401, "the user's gateway token is not accepted by the API")

    const toOrders = await exchange(GATEWAY, { subject_token: user.access, audience: ORDERS_AUD, scope: 'notes:read' })
    t.equal(toOrders.status, 200, JSON.stringify(toOrders.body))
    t.equal(toOrders.body.issued_token_type, ACCESS_TOKEN)
    t.equal(toOrders.body.token_type, 'Bearer')
    t.equal(toOrders.body.scope, 'notes:read')
    t.notOk('refresh_token' in toOrders.body, 'no refresh token')
    const hop1 = claimsOf(toOrders.body.access_token as string)
    t.match(hop1, {
      iss: issuer,
      sub: subject.sub,
      sid: subject.sid,
      auth_time: subject.auth_time,
      roles: subject.roles,
      aud: ORDERS_AUD,
      client_id: GATEWAY.id,
      scope: 'notes:read',
      act: { sub: GATEWAY.id },
    })
    t.notOk((hop1.act as Record<string, unknown>).act, 'the first exchange has a single actor')
    t.ok((hop1.exp as number) <= (subject.exp as number), 'never outlives the subject token')
    t.equal((await me(toOrders.body.access_token as string)).status, 401, 'the orders token is not accepted by the API')

    const toApi = await exchange(ORDERS, { subject_token: toOrders.body.access_token as string, resource: audience })
    t.equal(toApi.status, 200, JSON.stringify(toApi.body))
    const hop2 = claimsOf(toApi.body.access_token as string)
    t.match(hop2, {
      sub: subject.sub,
      sid: subject.sid,
      aud: audience,
      client_id: ORDERS.id,
      scope: 'notes:read',
      act: { sub: ORDERS.id, act: { sub: GATEWAY.id } },
    })
    t.ok((hop2.exp as number) <= (hop1.exp as number))

    const res = await me(toApi.body.access_token as string)
    t.equal(res.status, 200)
    t.match(await res.json(), { sub: subject.sub, client_id: ORDERS.id, actor_chain: [ORDERS.id, GATEWAY.id] })
    const notes = await fetch(`${api.url}/v1/notes`, {
      headers: { authorization: `Bearer ${toApi.body.access_token}` },
    })
    t.equal(notes.status, 200, 'notes:read passed on')
    const write = await fetch(`${api.url}/v1/notes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${toApi.body.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x' }),
    })
    t.equal(write.status, 403, 'notes:write was narrowed away')
  },
)

t.test('without a scope the new token has what the subject had and the client may pass on', async (t) => {
  const user = await aliceAtGateway('openid notes:read')
  const res = await exchange(GATEWAY, { subject_token: user.access })
  t.equal(res.status, 200)
  t.equal(res.body.scope, 'notes:read', 'openid is not the gateway’s to pass on; notes:write was never granted')
  t.equal(claimsOf(res.body.access_token as string).aud, ORDERS_AUD, 'the default is the first exchange audience')
})

t.test('the caller may prove itself with its own token as actor_token', async (t) => {
  const user = await aliceAtGateway()
  const own = (await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, GATEWAY)).body.access_token as string
  const ok = await exchange(GATEWAY, { subject_token: user.access, actor_token: own, actor_token_type: ACCESS_TOKEN })
  t.equal(ok.status, 200, JSON.stringify(ok.body))
  const others = (await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, ORDERS)).body
    .access_token as string
  const bad = await exchange(GATEWAY, {
    subject_token: user.access,
    actor_token: others,
    actor_token_type: ACCESS_TOKEN,
  })
  t.equal(bad.status, 400)
  t.equal(bad.body.error, 'invalid_request', "another client's token is not the caller's actor token")
  const untyped = await exchange(GATEWAY, { subject_token: user.access, actor_token: own })
  t.equal(untyped.body.error, 'invalid_request', 'actor_token needs actor_token_type')
})

t.test('every refusal the SPEC lists, each with its error', async (t) => {
  const user = await aliceAtGateway()
  const toOrders = (await exchange(GATEWAY, { subject_token: user.access })).body.access_token as string
  const idToken = (
    await tokenRequest(
      tokenUrl,
      {
        grant_type: 'password',
        username: ALICE.username,
        password: ALICE.password,
        scope: 'openid notes:read',
        resource: GATEWAY_AUD,
      },
      BFF,
    )
  ).body.id_token as string
  const foreign = await (async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256')
    const jwk = await exportJWK(publicKey)
    return new SignJWT({ client_id: BFF.id, scope: 'notes:read', jti: 'f1' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'evil', jwk })
      .setIssuer('https://evil.example')
      .setSubject('alice')
      .setAudience(GATEWAY_AUD)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey)
  })()
  const forged = `${user.access.slice(0, user.access.lastIndexOf('.'))}.${'A'.repeat(342)}`
  const cases: [string, { id: string; secret: string }, Record<string, string>, number, string][] = [
    ['a client without the grant', SERVICE, { subject_token: user.access }, 400, 'unauthorized_client'],
    ['an audience outside the client’s list', GATEWAY, { subject_token: user.access, audience }, 400, 'invalid_target'],
    [
      'a resource outside the list',
      GATEWAY,
      { subject_token: user.access, resource: 'https://evil.example' },
      400,
      'invalid_target',
    ],
    ['a wider scope', GATEWAY, { subject_token: user.access, scope: 'notes:read notes:admin' }, 400, 'invalid_scope'],
    [
      'a scope the client may not pass on',
      GATEWAY,
      { subject_token: user.access, scope: 'openid' },
      400,
      'invalid_scope',
    ],
    ['a subject token not addressed to the client', ORDERS, { subject_token: user.access }, 400, 'invalid_request'],
    ['a subject token of another issuer', GATEWAY, { subject_token: foreign }, 400, 'invalid_request'],
    ['a forged signature', GATEWAY, { subject_token: forged }, 400, 'invalid_request'],
    ['an ID token as subject', GATEWAY, { subject_token: idToken }, 400, 'invalid_request'],
    ['a refresh token as subject', GATEWAY, { subject_token: user.refresh }, 400, 'invalid_request'],
    ['garbage', GATEWAY, { subject_token: 'not-a-token' }, 400, 'invalid_request'],
    [
      'another subject_token_type',
      GATEWAY,
      { subject_token: user.access, subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' },
      400,
      'invalid_request',
    ],
    [
      'requested_token_type other than an access token',
      GATEWAY,
      { subject_token: user.access, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' },
      400,
      'invalid_request',
    ],
    ['no subject_token', GATEWAY, {}, 400, 'invalid_request'],
    [
      'an exchanged token exchanged again by its own issuer client',
      GATEWAY,
      { subject_token: toOrders },
      400,
      'invalid_request',
    ],
    [
      'an exchanged token exchanged again towards a forbidden audience',
      ORDERS,
      { subject_token: toOrders, audience: GATEWAY_AUD },
      400,
      'invalid_target',
    ],
  ]
  for (const [what, client, fields, status, error] of cases) {
    const res = await exchange(client, fields)
    t.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`)
    t.equal(res.body.error, error, what)
    t.notOk(res.body.access_token, `${what}: no token`)
  }

  const missingType = await tokenRequest(tokenUrl, { grant_type: TOKEN_EXCHANGE, subject_token: user.access }, GATEWAY)
  t.equal(missingType.body.error, 'invalid_request', 'subject_token_type is required')

  const publicClient = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: TOKEN_EXCHANGE,
      client_id: WEB.id,
      subject_token: user.access,
      subject_token_type: ACCESS_TOKEN,
    }),
  })
  t.equal(publicClient.status, 400)
  t.equal((await publicClient.json()).error, 'unauthorized_client', 'a public client cannot exchange')

  const wrongSecret = await exchange({ id: GATEWAY.id, secret: `${GATEWAY.secret}x` }, { subject_token: user.access })
  t.equal(wrongSecret.status, 401)
  t.equal(wrongSecret.body.error, 'invalid_client')
})

t.test('a revoked subject token cannot be exchanged', async (t) => {
  const user = await aliceAtGateway()
  const revoke = await fetch(`${issuer}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(BFF) },
    body: new URLSearchParams({ token: user.access }),
  })
  t.equal(revoke.status, 200)
  const res = await exchange(GATEWAY, { subject_token: user.access })
  t.equal(res.body.error, 'invalid_request')
})

t.test(
  "ending the user's session kills every token exchanged from it, at the auth server and at the API",
  async (t) => {
    const user = await aliceAtGateway()
    const toOrders = (await exchange(GATEWAY, { subject_token: user.access })).body.access_token as string
    const toApi = (await exchange(ORDERS, { subject_token: toOrders })).body.access_token as string
    t.equal((await me(toApi)).status, 200)
    const revoked = await fetch(`${issuer}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(BFF) },
      body: new URLSearchParams({ token: user.refresh, token_type_hint: 'refresh_token' }),
    })
    t.equal(revoked.status, 200)
    const introspect = await fetch(`${issuer}/oauth/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(ORDERS) },
      body: new URLSearchParams({ token: toApi }),
    })
    t.same(await introspect.json(), { active: false }, 'introspection knows at once')
    t.equal((await exchange(ORDERS, { subject_token: toOrders })).body.error, 'invalid_request', 'no further exchange')
    // The API hears of it through the revocation events; bounded poll, not a timing assertion.
    let status = 200
    for (let i = 0; i < 200 && status === 200; i++) {
      status = (await me(toApi)).status
      if (status === 200) await sleep(25)
    }
    t.equal(status, 401, 'the API refuses the exchanged token')
  },
)

t.test('TokenClient.exchange: cached per key, one request in flight, DPoP-bound with a proof', async (t) => {
  const user = await aliceAtGateway()
  let posts = 0
  const counting: typeof fetch = (input, init) => {
    if (String(input) === tokenUrl) posts++
    return fetch(input, init)
  }
  const gateway = new TokenClient({ issuer, clientId: GATEWAY.id, clientSecret: GATEWAY.secret, fetch: counting })
  const [a, b, c] = await Promise.all([
    gateway.exchange(user.access, { audience: ORDERS_AUD, scope: 'notes:read' }),
    gateway.exchange(user.access, { audience: ORDERS_AUD, scope: 'notes:read' }),
    gateway.exchange(user.access, { audience: ORDERS_AUD, scope: ['notes:read'] }),
  ])
  t.equal(posts, 1, 'one request for three callers')
  t.equal(a.accessToken, b.accessToken)
  t.equal(a.accessToken, c.accessToken)
  t.equal(a.issuedTokenType, ACCESS_TOKEN)
  t.equal(
    (await gateway.exchange(user.access, { audience: ORDERS_AUD, scope: 'notes:read' })).accessToken,
    a.accessToken,
  )
  t.equal(posts, 1, 'then from the cache')
  const wider = await gateway.exchange(user.access, { audience: ORDERS_AUD })
  t.equal(posts, 2, 'another scope is another key')
  t.equal(wider.scope, 'notes:read notes:write')
  await t.rejects(gateway.exchange(user.access, { audience }), { name: 'TokenEndpointError', error: 'invalid_target' })

  const orders = new TokenClient({ issuer, clientId: ORDERS.id, clientSecret: ORDERS.secret, dpop: true })
  const bound = await orders.exchange(a.accessToken, { audience })
  t.equal(bound.tokenType, 'DPoP')
  t.type((claimsOf(bound.accessToken).cnf as { jkt?: string }).jkt, 'string')
  t.equal((await me(bound.accessToken)).status, 401, 'a DPoP-bound exchanged token is refused as Bearer')
  const res = await orders.fetch(`${api.url}/v1/me`, {}, { subjectToken: a.accessToken, audience })
  t.equal(res.status, 200, 'and accepted with the exchanging service’s proofs')
  t.match(await res.json(), { actor_chain: [ORDERS.id, GATEWAY.id] })
})
