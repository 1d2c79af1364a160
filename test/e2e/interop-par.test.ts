// RFC 9126 with an unmodified client library: oauth4webapi pushes the authorization request (SPA, public, and a
// confidential client that must use PAR), the browser carries only the request_uri, the library checks `iss` (RFC 9207)
// and redeems the code; a reused request_uri, and a required-PAR client trying without it, are refused (issue 29).
import { readFile, writeFile } from 'node:fs/promises'
import * as oauth from 'oauth4webapi'
import t from 'tap'
import { ALICE, bootstrapDir, SPA } from '../support/fixtures.js'
import { submitLoginForm } from '../support/login-form.js'
import { freePort } from '../support/ports.js'
import { stopWith } from '../support/processes.js'
import { startAuthServer } from '../support/services.js'

const PARTNER = {
  id: 'partner-portal',
  secret: 'partner-secret-0123456789abcdef0123456789',
  redirectUri: 'https://partner.example/cb',
}
const { file, keysDir } = await bootstrapDir('https://notes.example')
const doc = JSON.parse(await readFile(file, 'utf8')) as { clients: unknown[] }
doc.clients.push({
  client_id: PARTNER.id,
  client_secret: PARTNER.secret,
  grant_types: ['authorization_code'],
  scopes: ['openid', 'notes:read'],
  audiences: ['https://notes.example'],
  redirect_uris: [PARTNER.redirectUri],
  require_pushed_authorization_requests: true,
})
await writeFile(file, JSON.stringify(doc))
const port = await freePort()
const issuer = new URL(`http://127.0.0.1:${port}`)
const auth = await startAuthServer({
  port,
  env: { ISSUER: issuer.href.replace(/\/$/, ''), BOOTSTRAP_FILE: file, KEYS_DIR: keysDir },
})
stopWith(t, { 'the auth server': auth })
const insecure = { [oauth.allowInsecureRequests]: true }
const as = await oauth.processDiscoveryResponse(
  new URL(issuer.href.replace(/\/$/, '')),
  await oauth.discoveryRequest(new URL(issuer.href.replace(/\/$/, '')), insecure),
)

async function pushed(
  client: oauth.Client,
  auth: oauth.ClientAuth,
  redirectUri: string,
  verifier: string,
  state: string,
) {
  const response = await oauth.pushedAuthorizationRequest(
    as,
    client,
    auth,
    {
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid notes:read',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    },
    insecure,
  )
  return oauth.processPushedAuthorizationResponse(as, client, response)
}

t.test('metadata says PAR and iss are supported', async (t) => {
  t.equal(as.pushed_authorization_request_endpoint, `${as.issuer}/oauth/par`)
  t.equal(as.authorization_response_iss_parameter_supported, true)
})

for (const [name, client, clientAuth, redirectUri] of [
  [
    'a confidential client that must use PAR',
    { client_id: PARTNER.id },
    oauth.ClientSecretBasic(PARTNER.secret),
    PARTNER.redirectUri,
  ],
  ['a public client (SPA)', { client_id: SPA.id }, oauth.None(), SPA.redirectUri],
] as const) {
  t.test(`oauth4webapi PAR, ${name}: request_uri only in the browser, iss checked, code redeemed`, async (t) => {
    const verifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    const { request_uri, expires_in } = await pushed(client, clientAuth, redirectUri, verifier, state)
    t.equal(expires_in, 60)
    const url = new URL(as.authorization_endpoint as string)
    url.search = new URLSearchParams({ client_id: client.client_id, request_uri }).toString()
    const callback = await submitLoginForm(url, ALICE.username, ALICE.password)
    const params = oauth.validateAuthResponse(as, client, callback, state)
    const result = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, verifier, insecure),
    )
    t.type(result.access_token, 'string')
    t.equal(result.scope, 'openid notes:read')
    const reused = await fetch(url, { redirect: 'manual' })
    t.equal(reused.status, 400, 'the request_uri was used once')
  })
}

t.test(
  'a client that must use PAR is refused at /oauth/authorize without it; oauth4webapi reads the error',
  async (t) => {
    const client = { client_id: PARTNER.id }
    const url = new URL(as.authorization_endpoint as string)
    const state = oauth.generateRandomState()
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: PARTNER.id,
      redirect_uri: PARTNER.redirectUri,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
    }).toString()
    const res = await fetch(url, { redirect: 'manual' })
    t.equal(res.status, 303)
    const location = new URL(res.headers.get('location') as string)
    t.throws(() => oauth.validateAuthResponse(as, client, location, state), {
      error: 'invalid_request',
    } as unknown as Error)
    t.equal(location.searchParams.get('iss'), as.issuer, 'iss on the error response (RFC 9207)')
  },
)
