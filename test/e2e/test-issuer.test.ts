// @tollgate/auth-server/testing: the real server in-process, with a mock's ergonomics.
import { createTestIssuer } from '@tollgate/auth-server/testing'
import { createVerifier, TokenClient, TokenEndpointError } from '@tollgate/shared'
import { decodeProtectedHeader } from 'jose'
import t from 'tap'
import { tokenRequest } from '../support/fixtures.js'

const AUDIENCE = 'http://inventory.test'
const START = Date.UTC(2030, 0, 1)
const issuer = await createTestIssuer({
  audience: AUDIENCE,
  scopes: ['stock:read', 'stock:write'],
  users: [{ username: 'dana', password: 'dana-password-1', name: 'Dana' }],
  accessTokenTtl: 120,
  now: START,
  env: { REFRESH_IDLE_TTL: '600' },
})
t.teardown(() => issuer.close())
const verifier = createVerifier({
  issuer: issuer.url,
  audience: AUDIENCE,
  now: issuer.clock.now,
  jwks: { cooldownMs: 1 },
})
const login = () =>
  tokenRequest(
    issuer.tokenEndpoint,
    { grant_type: 'password', username: 'dana', password: 'dana-password-1', scope: 'stock:read' },
    { id: issuer.client.clientId, secret: issuer.client.clientSecret },
  )

t.test('it is the real server: discovery, JWKS, token endpoint', async (t) => {
  const metadata = (await (await fetch(`${issuer.url}/.well-known/oauth-authorization-server`)).json()) as Record<
    string,
    unknown
  >
  t.equal(metadata.issuer, issuer.url)
  t.equal(metadata.token_endpoint, issuer.tokenEndpoint)
  t.equal(metadata.jwks_uri, issuer.jwksUri)
  const { status, body } = await tokenRequest(
    issuer.tokenEndpoint,
    { grant_type: 'client_credentials', scope: 'stock:write' },
    { id: issuer.client.clientId, secret: issuer.client.clientSecret },
  )
  t.equal(status, 200)
  const claims = await verifier.verify(body.access_token as string)
  t.equal(claims.scope, 'stock:write')
  t.equal(claims.iat, START / 1000, 'issued on the issuer’s clock')
  t.equal(claims.exp, START / 1000 + 120, 'accessTokenTtl')
})

t.test('mintAccessToken signs what the token endpoint would, with the given claims', async (t) => {
  const token = await issuer.mintAccessToken({ sub: 'user-42', scope: ['stock:read'], roles: ['auditor'] })
  const claims = await verifier.verify(token)
  t.match(claims, { iss: issuer.url, sub: 'user-42', aud: AUDIENCE, scope: 'stock:read', client_id: 'test-client' })
  t.same(claims.roles, ['auditor'])
  t.equal(decodeProtectedHeader(token).typ, 'at+jwt')
  const expired = await issuer.mintAccessToken({ expiresIn: -60 })
  await t.rejects(verifier.verify(expired), { name: 'InvalidTokenError', error: 'invalid_token' })
  const elsewhere = await issuer.mintAccessToken({ audience: 'http://other.test' })
  await t.rejects(verifier.verify(elsewhere), { name: 'InvalidTokenError', error: 'invalid_token' })
})

t.test('the clock moves tokens and sessions forward in time', async (t) => {
  const token = await issuer.mintAccessToken({ scope: 'stock:read' })
  await verifier.verify(token)
  const session = await login()
  t.equal(session.status, 200)
  issuer.clock.advance(121 + 5)
  await t.rejects(
    verifier.verify(token),
    { name: 'InvalidTokenError', error: 'invalid_token' },
    'expired by the moved clock',
  )
  issuer.clock.advance(600)
  const refresh = await tokenRequest(
    issuer.tokenEndpoint,
    { grant_type: 'refresh_token', refresh_token: session.body.refresh_token as string },
    { id: issuer.client.clientId, secret: issuer.client.clientSecret },
  )
  t.equal(refresh.body.error, 'invalid_grant', 'idle past REFRESH_IDLE_TTL')
})

t.test('endSessions ends a user’s refresh tokens', async (t) => {
  const tokens = new TokenClient({
    issuer: issuer.url,
    clientId: issuer.client.clientId,
    clientSecret: issuer.client.clientSecret,
    refreshToken: (await login()).body.refresh_token as string,
    now: issuer.clock.now,
  })
  t.type(await tokens.getToken(), 'string')
  t.equal(await issuer.endSessions('dana'), 1)
  tokens.invalidate()
  const err = await tokens.getToken().catch((e: unknown) => e)
  t.type(err, TokenEndpointError)
  t.equal((err as TokenEndpointError).error, 'invalid_grant')
})

t.test('rotateKeys: new tokens carry the new kid, old ones keep verifying', async (t) => {
  const before = await issuer.mintAccessToken()
  const kid = await issuer.rotateKeys()
  const after = await issuer.mintAccessToken()
  t.equal(decodeProtectedHeader(after).kid, kid)
  t.not(decodeProtectedHeader(before).kid, kid)
  await verifier.verify(after)
  await verifier.verify(before)
  const jwks = (await (await fetch(issuer.jwksUri)).json()) as { keys: { kid: string }[] }
  t.equal(jwks.keys.length, 2)
})

t.test('several issuers live side by side; close() frees the port', async (t) => {
  const other = await createTestIssuer()
  t.not(other.url, issuer.url)
  t.equal((await fetch(`${other.url}/readyz`)).status, 200)
  t.match(await (await fetch(`${other.url}/metrics`)).text(), /tollgate_tokens_issued_total/)
  await other.close()
  await t.rejects(fetch(`${other.url}/readyz`))
})
