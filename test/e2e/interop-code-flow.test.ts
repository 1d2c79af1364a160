// An unmodified third-party client (oauth4webapi) runs authorization code + PKCE: an HTTP client submits the
// sign-in form like a browser; the library validates the response, the ID token (nonce) and calls userinfo.
import * as oauth from 'oauth4webapi'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { ALICE, SPA } from '../support/fixtures.js'
import { submitLoginForm } from '../support/login-form.js'

const issuer = new URL((await startE2e(t, { redis: false, audience: 'https://notes.example' })).issuer)
const insecure = { [oauth.allowInsecureRequests]: true }

t.test('authorization code + PKCE, ID token with nonce, userinfo, refresh', async (t) => {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  const client: oauth.Client = { client_id: SPA.id }
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const nonce = oauth.generateRandomNonce()
  const url = new URL(as.authorization_endpoint as string)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: SPA.id,
    redirect_uri: SPA.redirectUri,
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString()

  const callback = await submitLoginForm(url, ALICE.username, ALICE.password)
  t.equal(`${callback.origin}${callback.pathname}`, SPA.redirectUri)
  const params = oauth.validateAuthResponse(as, client, callback, state)
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    SPA.redirectUri,
    verifier,
    insecure,
  )
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  })
  const claims = oauth.getValidatedIdTokenClaims(result)
  t.equal(claims?.name, 'Alice')
  t.equal(claims?.email, 'alice@example.com')
  t.type(result.refresh_token, 'string')

  const info = await oauth.processUserInfoResponse(
    as,
    client,
    claims?.sub as string,
    await oauth.userInfoRequest(as, client, result.access_token, insecure),
  )
  t.equal(info.email, 'alice@example.com')

  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, oauth.None(), result.refresh_token as string, insecure),
  )
  t.type(refreshed.access_token, 'string')
})

t.test('the library sees a refused PKCE verifier as invalid_grant', async (t) => {
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
  const client: oauth.Client = { client_id: SPA.id }
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(as.authorization_endpoint as string)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: SPA.id,
    redirect_uri: SPA.redirectUri,
    scope: 'openid',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString()
  const params = oauth.validateAuthResponse(
    as,
    client,
    await submitLoginForm(url, ALICE.username, ALICE.password),
    state,
  )
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    SPA.redirectUri,
    oauth.generateRandomCodeVerifier(),
    insecure,
  )
  const err = await oauth.processAuthorizationCodeResponse(as, client, response).catch((e) => e)
  t.ok(err instanceof oauth.ResponseBodyError)
  t.equal(err.error, 'invalid_grant')
})
