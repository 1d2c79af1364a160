// An unmodified third-party client (oauth4webapi) discovers the server, gets a client_credentials token,
// and its strict RFC 9068 validator accepts that token.
import * as oauth from 'oauth4webapi'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { SERVICE } from '../support/fixtures.js'

const audience = 'https://notes.example'
const issuer = new URL((await startE2e(t, { redis: false, audience })).issuer)

const insecure = { [oauth.allowInsecureRequests]: true }

t.test('discovery, client_credentials and RFC 9068 validation', async (t) => {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  t.equal(as.issuer, issuer.origin)
  const client: oauth.Client = { client_id: SERVICE.id }
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.ClientSecretBasic(SERVICE.secret),
    { scope: 'notes:read' },
    insecure,
  )
  const result = await oauth.processClientCredentialsResponse(as, client, response)
  t.equal(result.token_type, 'bearer')
  t.equal(result.scope, 'notes:read')

  const request = new Request('https://notes.example/v1/notes', {
    headers: { authorization: `Bearer ${result.access_token}` },
  })
  const claims = await oauth.validateJwtAccessToken(as, request, audience, insecure)
  t.equal(claims.client_id, SERVICE.id)
  t.equal(claims.iss, issuer.origin)
  t.equal(claims.scope, 'notes:read')
})

t.test('client_secret_post works too', async (t) => {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  const client: oauth.Client = { client_id: SERVICE.id }
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.ClientSecretPost(SERVICE.secret),
    {},
    insecure,
  )
  const result = await oauth.processClientCredentialsResponse(as, client, response)
  t.type(result.access_token, 'string')
})

t.test('a wrong secret surfaces as invalid_client through the library', async (t) => {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  const client: oauth.Client = { client_id: SERVICE.id }
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic('wrong'), {}, insecure)
  const err = await oauth.processClientCredentialsResponse(as, client, response).catch((e) => e)
  // A 401 with WWW-Authenticate is surfaced as the challenge; the RFC 6749 body is still there.
  t.ok(err instanceof oauth.WWWAuthenticateChallengeError)
  t.equal(err.status, 401)
  t.equal(err.cause[0].scheme, 'basic')
  t.equal((await err.response.json()).error, 'invalid_client')
})
