// Clients without shared secrets (SPEC): private_key_jwt and platform tokens at the token, introspection and
// revocation endpoints — every refusal 401 invalid_client naming its cause, counted like a wrong secret, never logged.
import { createHmac, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { jwkThumbprint, publicJwkOf, type SigningAlgorithm, signSync } from '@tollgate/shared'
import t from 'tap'
import type { BootstrapDocument } from '../../src/bootstrap.js'
import { ASSERTION_JWKS_COOLDOWN_MS } from '../../src/clients/assertion-keys.js'
import { StoreUnavailableError } from '../../src/errors.js'
import { MemoryStore } from '../../src/store/memory/memory-store.js'
import { createTestPlatform } from '../../src/testing/platform.js'
import { API, basic, form, ISSUER, SERVICE_SECRET, testServer } from '../helpers.js'

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const JWT_SPIFFE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'
const TOKEN_URL = `${ISSUER}/oauth/token`

interface TestKey {
  readonly alg: SigningAlgorithm | 'PS256'
  readonly kid: string
  readonly privateKey: KeyObject
  readonly jwk: Record<string, unknown>
}
function testKey(alg: TestKey['alg']): TestKey {
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 })
  const members = publicJwkOf(publicKey)
  const kid = jwkThumbprint(members)
  return { alg, kid, privateKey, jwk: { ...members, kid } }
}
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

const es = testKey('ES256')
const stranger = testKey('ES256')
const uriKeys = [testKey('EdDSA')]
const clock = { now: Date.now() }
const k8s = await createTestPlatform({ now: () => clock.now })
const spiffe = await createTestPlatform({ alg: 'EdDSA', discovery: false, now: () => clock.now })
t.teardown(() => Promise.all([k8s.close(), spiffe.close()]))

// A client's own JWKS endpoint, where it rotates its key.
let jwksRequests = 0
const jwksServer = createServer((_req, res) => {
  jwksRequests++
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: uriKeys.map((k) => k.jwk) }))
})
await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
t.teardown(() => jwksServer.close())
const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`

const client = (id: string, over: Record<string, unknown>) => ({
  client_id: id,
  grant_types: ['client_credentials' as const],
  scopes: ['notes:read'],
  audiences: [API],
  ...over,
})
const ORDERS_SA = 'system:serviceaccount:shop:orders'
const BILLING_ID = 'spiffe://example.org/ns/shop/sa/billing'
const doc: BootstrapDocument = {
  clients: [
    {
      client_id: 'service',
      client_secret: SERVICE_SECRET,
      grant_types: ['client_credentials'],
      scopes: ['notes:read'],
      audiences: [API],
    },
    client('es-svc', { jwks: { keys: [es.jwk] } }),
    client('other-svc', { jwks: { keys: [stranger.jwk] } }),
    client('uri-svc', { jwks_uri: jwksUri }),
    client('strict-svc', {
      client_secret: `${SERVICE_SECRET}-strict`,
      jwks: { keys: [testKey('ES256').jwk] },
      token_endpoint_auth_method: 'private_key_jwt',
    }),
    client('k8s-orders', { federated_identities: [{ issuer: k8s.issuer, subject: ORDERS_SA }] }),
    client('spiffe-billing', { federated_identities: [{ issuer: spiffe.issuer, subject: BILLING_ID }] }),
  ] as BootstrapDocument['clients'],
  trusted_issuers: [{ issuer: k8s.issuer }, { issuer: spiffe.issuer, jwks_uri: spiffe.jwksUri }],
}
const logs: Record<string, unknown>[] = []
const store = new MemoryStore({ now: () => clock.now })
const { app } = await testServer({ LOGIN_IP_MAX_FAILURES: '1000' }, { doc, store, logs })

/** A private_key_jwt assertion: the claims RFC 7523 asks for, overridable. */
function assertion(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  clientId = 'es-svc',
): string {
  const iat = Math.floor(clock.now / 1000)
  const input = `${b64({ alg: key.alg, kid: key.kid, ...header })}.${b64({
    iss: clientId,
    sub: clientId,
    aud: ISSUER,
    iat,
    exp: iat + 60,
    jti: randomBytes(12).toString('base64url'),
    ...claims,
  })}`
  return `${input}.${signSync(key.alg, key.privateKey, Buffer.from(input)).toString('base64url')}`
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const post = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers: { ...FORM, ...headers }, payload: form(fields) })
const cc = (clientAssertion: string, extra: Record<string, string> = {}) =>
  post('/oauth/token', {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: clientAssertion,
    ...extra,
  })

t.test('metadata: private_key_jwt at every endpoint, with its algorithms', async (t) => {
  const metadata = (await app.inject('/.well-known/oauth-authorization-server')).json()
  for (const endpoint of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
    t.ok(metadata[`${endpoint}_auth_methods_supported`].includes('private_key_jwt'), endpoint)
    t.same(metadata[`${endpoint}_auth_signing_alg_values_supported`], ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'])
  }
})

t.test('private_key_jwt: client_credentials, introspection and revocation', async (t) => {
  const res = await cc(assertion(es))
  t.equal(res.statusCode, 200, res.body)
  const { access_token: token } = res.json()
  const introspect = await post('/oauth/introspect', {
    token,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion(es),
  })
  t.equal(introspect.json().active, true)
  t.equal(introspect.json().client_id, 'es-svc')
  const revoke = await post('/oauth/revoke', {
    token,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion(es),
  })
  t.equal(revoke.statusCode, 200)
  const after = await post('/oauth/introspect', {
    token,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion(es),
  })
  t.equal(after.json().active, false)
  t.equal((await cc(assertion(es, { aud: TOKEN_URL }))).statusCode, 200, 'aud the token endpoint URL')
  t.equal((await cc(assertion(es, { aud: ['https://x', ISSUER] }))).statusCode, 200, 'aud an array with the issuer')
  t.equal((await cc(assertion(es), { client_id: 'es-svc' })).statusCode, 200, 'with client_id')
})

t.test('every bad assertion is refused: 401 invalid_client naming what was wrong', async (t) => {
  const used = assertion(es)
  t.equal((await cc(used)).statusCode, 200)
  const now = Math.floor(clock.now / 1000)
  const unsigned = `${b64({ alg: 'none' })}.${b64({ iss: 'es-svc', sub: 'es-svc', aud: ISSUER, exp: now + 60, jti: 'n' })}.`
  const hmacInput = `${b64({ alg: 'HS256', kid: es.kid })}.${b64({ iss: 'es-svc', sub: 'es-svc', aud: ISSUER, exp: now + 60, jti: 'h' })}`
  const hmac = `${hmacInput}.${createHmac('sha256', JSON.stringify(es.jwk)).update(hmacInput).digest('base64url')}`
  const cases: [string, string, RegExp, Record<string, string>?][] = [
    ['replayed', used, /already used/],
    ['expired', assertion(es, { iat: now - 600, exp: now - 60 }), /has expired/],
    ['far-future exp', assertion(es, { exp: now + 3600 }), /exp is too far in the future \(at most 300 s ahead\)/],
    ['another audience', assertion(es, { aud: 'https://other.example' }), /for another audience/],
    [
      'iss ≠ sub',
      assertion(es, { sub: 'other-svc' }),
      /iss and sub of the client assertion must both be the client_id/,
    ],
    ['unknown kid', assertion(es, {}, { kid: 'no-such-key' }), /signed by an unknown key \(kid no-such-key\)/],
    ['alg none', unsigned, /unsigned \(alg none is not allowed\)/],
    ['HS256 with the public key as secret', hmac, /algorithm HS256 is not allowed/],
    ["another client's key under its kid", assertion(stranger, {}, { kid: es.kid }), /signature is invalid/],
    ["another client's key", assertion(stranger), /signed by an unknown key/],
    ['alg swapped', assertion(es, {}, { alg: 'EdDSA' }), /algorithm EdDSA does not fit the key its kid names/],
    ['no jti', assertion(es, { jti: undefined }), /no usable jti/],
    ['no exp', assertion(es, { exp: undefined }), /has no exp/],
    ['client_id of another client', assertion(es), /client_id does not match/, { client_id: 'other-svc' }],
    ['not a JWT', 'not-a-jwt', /malformed: it is not a compact JWS/],
    ['a client with a secret only', assertion(es, {}, {}, 'service'), /client service has no registered keys/],
    ['an unknown client', assertion(es, {}, {}, 'nobody'), /client authentication failed/],
  ]
  for (const [what, value, description, extra] of cases) {
    const res = await cc(value, extra)
    t.equal(res.statusCode, 401, what)
    t.equal(res.json().error, 'invalid_client', what)
    t.match(res.json().error_description, description, what)
    t.match(res.headers['www-authenticate'], /^Basic/)
  }
  const aHeaderOnly = `${b64({ alg: 'ES256' })}.${b64({ iss: 'es-svc' })}`
  t.equal((await cc(aHeaderOnly)).statusCode, 401)
})

t.test('two methods, or an assertion without its type, are 400 invalid_request', async (t) => {
  const both = await cc(assertion(es), { client_secret: SERVICE_SECRET })
  t.equal(both.statusCode, 400)
  t.match(both.json(), { error: 'invalid_request', error_description: /only one client authentication method/ })
  const withBasic = await post(
    '/oauth/token',
    { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion(es) },
    { authorization: basic('service', SERVICE_SECRET) },
  )
  t.equal(withBasic.statusCode, 400)
  const noType = await post('/oauth/token', { grant_type: 'client_credentials', client_assertion: assertion(es) })
  t.match(noType.json(), { error: 'invalid_request', error_description: /without client_assertion_type/ })
  const otherType = await cc(assertion(es), { client_assertion_type: 'urn:example:saml' })
  t.equal(otherType.statusCode, 400)
  t.match(otherType.json().error_description, /client_assertion_type must be one of/)
})

t.test('a client registered for private_key_jwt cannot use its secret, and the other way round', async (t) => {
  const secret = await post(
    '/oauth/token',
    { grant_type: 'client_credentials' },
    { authorization: basic('strict-svc', `${SERVICE_SECRET}-strict`) },
  )
  t.equal(secret.statusCode, 401)
  t.match(secret.json().error_description, /client strict-svc must authenticate with private_key_jwt/)
})

t.test('a key rotated at the client’s jwks_uri is picked up on first use (one refetch per cooldown)', async (t) => {
  const first = uriKeys[0] as TestKey
  t.equal((await cc(assertion(first, {}, {}, 'uri-svc'))).statusCode, 200)
  const fetched = jwksRequests
  t.equal((await cc(assertion(first, {}, {}, 'uri-svc'))).statusCode, 200)
  t.equal(jwksRequests, fetched, 'cached')
  const next = testKey('ES256')
  uriKeys.push(next)
  // Within the cooldown an unknown kid may be refused; after it the set is fetched again. Bounded by the cooldown.
  const deadline = Date.now() + ASSERTION_JWKS_COOLDOWN_MS * 3
  let status = 0
  while (status !== 200 && Date.now() < deadline) {
    status = (await cc(assertion(next, {}, {}, 'uri-svc'))).statusCode
    if (status !== 200) await new Promise((r) => setTimeout(r, 250))
  }
  t.equal(status, 200, 'the new key authenticates')
  t.ok(jwksRequests > fetched && jwksRequests <= fetched + 2, `refetched, not per request (${jwksRequests - fetched})`)
  t.equal((await cc(assertion(first, {}, {}, 'uri-svc'))).statusCode, 200, 'the old key too while it is published')
})

t.test('platform tokens: a Kubernetes service account and a SPIFFE ID authenticate their clients', async (t) => {
  const sa = k8s.serviceAccountToken({ namespace: 'shop', serviceAccount: 'orders', audience: ISSUER })
  const res = await cc(sa)
  t.equal(res.statusCode, 200, res.body)
  const token = res.json().access_token as string
  const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
  t.equal(claims.client_id, 'k8s-orders')
  t.equal((await cc(sa)).statusCode, 200, 'reused, as platforms reuse their tokens')
  t.equal((await cc(sa, { client_id: 'k8s-orders' })).statusCode, 200, 'with its client_id')
  const svid = spiffe.svid({ spiffeId: BILLING_ID, audience: [ISSUER] })
  const spiffeRes = await cc(svid, { client_assertion_type: JWT_SPIFFE })
  t.equal(spiffeRes.statusCode, 200, spiffeRes.body)
  t.equal((await cc(svid)).statusCode, 200, 'a JWT-SVID as jwt-bearer too')

  const forged = await createTestPlatform({ now: () => clock.now })
  t.teardown(() => forged.close())
  const rogueKey = forged.token({ subject: ORDERS_SA, audience: ISSUER })
  // The same claims under the trusted issuer's name, signed by a key it never published.
  const [, payload] = rogueKey.split('.')
  const claimsOf = JSON.parse(Buffer.from(payload as string, 'base64url').toString())
  const wrongKey = `${rogueKey.split('.')[0]}.${b64({ ...claimsOf, iss: k8s.issuer })}.${rogueKey.split('.')[2]}`
  const cases: [string, string, RegExp, Record<string, string>?][] = [
    [
      'another subject',
      k8s.serviceAccountToken({ namespace: 'shop', serviceAccount: 'cart', audience: ISSUER }),
      /no client is the platform identity system:serviceaccount:shop:cart/,
    ],
    [
      'another audience',
      k8s.serviceAccountToken({
        namespace: 'shop',
        serviceAccount: 'orders',
        audience: 'https://kubernetes.default.svc',
      }),
      /for another audience \(aud must include https:\/\/auth\.test\)/,
    ],
    ['an untrusted issuer', forged.token({ subject: ORDERS_SA, audience: ISSUER }), /is not a trusted issuer/],
    ['a key the issuer never published', wrongKey, /signed by an unknown key|signature is invalid/],
    [
      'expired',
      k8s.serviceAccountToken({ namespace: 'shop', serviceAccount: 'orders', audience: ISSUER, expiresIn: -60 }),
      /has expired/,
    ],
    ['a client it is not', sa, /client_id does not match the platform identity/, { client_id: 'es-svc' }],
    [
      'SPIFFE type from another issuer',
      assertion(es),
      /es-svc is not a trusted issuer/,
      { client_assertion_type: JWT_SPIFFE },
    ],
  ]
  for (const [what, value, description, extra] of cases) {
    const refused = await cc(value, extra)
    t.equal(refused.statusCode, 401, what)
    t.match(refused.json().error_description, description, what)
  }
})

t.test('a store fault while claiming the jti is 503, and the same assertion then succeeds', async (t) => {
  const claim = store.claimAssertionId.bind(store)
  store.claimAssertionId = async () => {
    throw new StoreUnavailableError('down')
  }
  const value = assertion(es)
  const res = await cc(value)
  store.claimAssertionId = claim
  t.equal(res.statusCode, 503)
  t.equal(res.json().error, 'temporarily_unavailable')
  t.ok(res.headers['retry-after'])
  t.equal((await cc(value)).statusCode, 200, 'nothing was recorded: the retry is not a replay')
})

t.test('failed assertions count against the IP like wrong secrets: locked, then 429', async (t) => {
  const locked = await testServer({ LOGIN_IP_MAX_FAILURES: '3' }, { doc })
  const bad = () =>
    locked.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: FORM,
      payload: form({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion(stranger, {}, { kid: es.kid }),
      }),
    })
  for (let i = 0; i < 3; i++) t.equal((await bad()).statusCode, i < 2 ? 401 : 429, `attempt ${i + 1}`)
  const good = await locked.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion(es),
    }),
  })
  t.equal(good.statusCode, 429, 'even a good assertion waits while the IP is locked')
})

t.test('no assertion reaches the log; the cause does', async (t) => {
  const text = JSON.stringify(logs)
  t.ok(logs.length > 0)
  for (const line of logs) {
    const s = JSON.stringify(line)
    t.notMatch(s, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/, 'no JWT in any log line')
  }
  t.match(text, /private_key_jwt of client nobody: private_key_jwt for unknown client nobody/)
  t.match(text, /private_key_jwt of client es-svc: the client assertion has expired/)
  t.match(text, /platform token of .* for system:serviceaccount:shop:cart: no client is the platform identity/)
})
