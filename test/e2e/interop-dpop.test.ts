// DPoP end to end with unmodified third-party clients (oauth4webapi, openid-client) and TokenClient, against the real
// auth server and resource API — both requiring server nonces, which the libraries must answer by themselves.

import { TokenClient } from '@tollgate/shared'
import * as oauth from 'oauth4webapi'
import * as oidc from 'openid-client'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { ALICE, SERVICE, SPA, WEB } from '../support/fixtures.js'
import { submitLoginForm } from '../support/login-form.js'
import type { Service } from '../support/services.js'

const stack = await startE2e(t, {
  redis: false,
  api: { env: { DPOP_NONCE: 'required' } },
  env: { DPOP_NONCE: 'required' },
})
const api = stack.api as Service
const issuer = new URL(stack.issuer)
const insecure = { [oauth.allowInsecureRequests]: true }
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString())

/** Runs a request, answering one use_dpop_nonce challenge as oauth4webapi's docs say. */
async function withNonce<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt()
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return attempt()
    throw err
  }
}

t.test('oauth4webapi: client_credentials with DPoP, then the resource API via protectedResourceRequest', async (t) => {
  const client: oauth.Client = { client_id: SERVICE.id }
  const auth = oauth.ClientSecretBasic(SERVICE.secret)
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const result = await withNonce(async () =>
    oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, {}, { ...insecure, DPoP }),
    ),
  )
  t.equal(result.token_type, 'dpop')
  t.equal(claimsOf(result.access_token).cnf.jkt, await DPoP.calculateThumbprint())
  const me = await withNonce(async () => {
    const res = await oauth.protectedResourceRequest(
      result.access_token,
      'GET',
      new URL(`${api.url}/v1/me`),
      new Headers(),
      null,
      { ...insecure, DPoP },
    )
    if (res.status !== 200) throw new Error(`${res.status} ${res.headers.get('www-authenticate')}`)
    return res
  })
  t.equal(me.status, 200, 'the API accepted the DPoP token with its proof (after its own nonce challenge)')
  const stolen = await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${result.access_token}` } })
  t.equal(stolen.status, 401, 'the same token without the key is useless')
})

t.test('oauth4webapi: password login with DPoP; the public client’s refresh token needs the key', async (t) => {
  const client: oauth.Client = { client_id: WEB.id, token_endpoint_auth_method: 'none' }
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('EdDSA'))
  const login = await withNonce(async () =>
    oauth.processGenericTokenEndpointResponse(
      as,
      client,
      await oauth.genericTokenEndpointRequest(
        as,
        client,
        oauth.None(),
        'password',
        { username: ALICE.username, password: ALICE.password },
        { ...insecure, DPoP },
      ),
    ),
  )
  t.equal(login.token_type, 'dpop')
  const refreshed = await withNonce(async () =>
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), login.refresh_token as string, {
        ...insecure,
        DPoP,
      }),
    ),
  )
  t.equal(refreshed.token_type, 'dpop')
  const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const stolen = await withNonce(async () =>
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token as string, {
        ...insecure,
        DPoP: thief,
      }),
    ),
  ).then(
    () => 'accepted',
    (err: oauth.ResponseBodyError) => err.error,
  )
  t.equal(stolen, 'invalid_dpop_proof', 'another key cannot refresh')
  const owner = await withNonce(async () =>
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token as string, {
        ...insecure,
        DPoP,
      }),
    ),
  )
  t.type(owner.access_token, 'string', 'and the owner’s session was not revoked by the attempt')
})

t.test('oauth4webapi: authorization code bound with dpop_jkt', async (t) => {
  const client: oauth.Client = { client_id: SPA.id, token_endpoint_auth_method: 'none' }
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const authorize = async () => {
    const verifier = oauth.generateRandomCodeVerifier()
    const url = new URL(as.authorization_endpoint as string)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: SPA.id,
      redirect_uri: SPA.redirectUri,
      scope: 'notes:read',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      dpop_jkt: await DPoP.calculateThumbprint(),
    }).toString()
    const callback = await submitLoginForm(url, ALICE.username, ALICE.password)
    return { params: oauth.validateAuthResponse(as, client, callback), verifier }
  }
  const bound = await authorize()
  const other = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const refused = await withNonce(async () =>
    oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        bound.params,
        SPA.redirectUri,
        bound.verifier,
        {
          ...insecure,
          DPoP: other,
        },
      ),
    ),
  ).then(
    () => 'accepted',
    (err: oauth.ResponseBodyError) => err.error,
  )
  t.equal(refused, 'invalid_dpop_proof', 'a proof by another key than dpop_jkt')
  const tokens = await withNonce(async () =>
    oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        bound.params,
        SPA.redirectUri,
        bound.verifier,
        {
          ...insecure,
          DPoP,
        },
      ),
    ),
  )
  t.equal(tokens.token_type, 'dpop', 'the code was not spent by the refused attempt, and redeems with its key')
})

t.test('openid-client: client_credentials and fetchProtectedResource with DPoP', async (t) => {
  const config = await oidc.discovery(issuer, SERVICE.id, SERVICE.secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  })
  const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'))
  const tokens = await oidc.clientCredentialsGrant(config, {}, { DPoP })
  t.equal(tokens.token_type, 'dpop')
  const res = await oidc.fetchProtectedResource(
    config,
    tokens.access_token,
    new URL(`${api.url}/v1/me`),
    'GET',
    null,
    undefined,
    { DPoP },
  )
  t.equal(res.status, 200)
  t.equal(((await res.json()) as { client_id: string }).client_id, SERVICE.id)
})

t.test('TokenClient with dpop: bound tokens and fetch() with proofs, nonces handled', async (t) => {
  const tokens = new TokenClient({
    issuer: issuer.origin,
    clientId: SERVICE.id,
    clientSecret: SERVICE.secret,
    dpop: true,
  })
  const set = await tokens.getTokenSet()
  t.equal(set.tokenType, 'DPoP')
  const res = await tokens.fetch(`${api.url}/v1/notes`)
  t.equal(res.status, 200)
  const again = await tokens.fetch(`${api.url}/v1/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'hi' }),
  })
  t.equal(again.status, 201, 'a fresh proof per request, for its own method and URL')
  const copied = await fetch(`${api.url}/v1/notes`, { headers: { authorization: `DPoP ${set.accessToken}` } })
  t.equal(copied.status, 401, 'the token copied out, with no proof: refused')
})
