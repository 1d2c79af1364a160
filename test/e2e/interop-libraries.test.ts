// Libraries other teams already use, unmodified, against the real auth server process:
// openid-client (discovery, client_credentials, refresh), jwks-rsa + jsonwebtoken, and express-oauth2-jwt-bearer.
import type { AddressInfo } from 'node:net'
import express, { type NextFunction, type Request, type Response } from 'express'

import { auth, requiredScopes } from 'express-oauth2-jwt-bearer'
import jwt from 'jsonwebtoken'
import jwksRsa from 'jwks-rsa'
import * as oidc from 'openid-client'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { ALICE, BFF, SERVICE, tokenRequest } from '../support/fixtures.js'

const audience = 'https://notes.interop.test'
const { issuer } = await startE2e(t, { redis: false, audience })
const tokenUrl = `${issuer}/oauth/token`
const serviceToken = async (scope = 'notes:read') =>
  (await tokenRequest(tokenUrl, { grant_type: 'client_credentials', scope }, SERVICE)).body.access_token as string

t.test('openid-client: discovery, client_credentials, refresh with rotation', async (t) => {
  const service = await oidc.discovery(new URL(issuer), SERVICE.id, SERVICE.secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  })
  t.equal(service.serverMetadata().issuer, issuer)
  t.equal(service.serverMetadata().token_endpoint, tokenUrl)
  const cc = await oidc.clientCredentialsGrant(service, { scope: 'notes:read', resource: audience })
  t.equal(cc.token_type.toLowerCase(), 'bearer')
  t.equal(cc.scope, 'notes:read')
  t.ok(cc.expiresIn()! > 0)

  const app = await oidc.discovery(new URL(issuer), BFF.id, BFF.secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  })
  const login = await oidc.genericGrantRequest(app, 'password', {
    username: ALICE.username,
    password: ALICE.password,
    scope: 'openid profile notes:read',
  })
  t.type(login.refresh_token, 'string')
  t.equal(login.claims()?.sub, (jwt.decode(login.access_token) as jwt.JwtPayload).sub, 'ID token validated')
  const refreshed = await oidc.refreshTokenGrant(app, login.refresh_token as string)
  t.type(refreshed.access_token, 'string')
  t.not(refreshed.refresh_token, login.refresh_token, 'the refresh token rotated')
  const again = await oidc.refreshTokenGrant(app, refreshed.refresh_token as string)
  t.type(again.access_token, 'string')
  // A spent token after the grace window is theft; within it, a replay. Either way no fork: the library sees the
  // server's answer, which for the family's newest token is still valid.
  await t.rejects(
    oidc.refreshTokenGrant(app, 'not-a-refresh-token'),
    { name: 'ResponseBodyError', error: 'invalid_grant' },
    'OAuth errors reach the library as ResponseBodyError',
  )
})

t.test('jwks-rsa + jsonwebtoken verify our access tokens', async (t) => {
  const keys = jwksRsa({ jwksUri: `${issuer}/.well-known/jwks.json`, cache: true, rateLimit: true })
  const token = await serviceToken()
  const { header } = jwt.decode(token, { complete: true }) as jwt.Jwt
  const key = await keys.getSigningKey(header.kid)
  const claims = jwt.verify(token, key.getPublicKey(), { algorithms: ['RS256'], issuer, audience }) as jwt.JwtPayload
  t.equal(claims.client_id, SERVICE.id)
  t.equal(claims.scope, 'notes:read')
  t.equal(header.typ, 'at+jwt')
  t.throws(() => jwt.verify(token, key.getPublicKey(), { algorithms: ['RS256'], issuer, audience: 'https://other' }))
})

t.test('an Express app protected by express-oauth2-jwt-bearer accepts them', async (t) => {
  const app = express()
  app.use(auth({ issuerBaseURL: issuer, audience, tokenSigningAlg: 'RS256' }))
  app.get('/notes', requiredScopes('notes:read'), (req, res) => {
    res.json({ sub: req.auth?.payload.sub, scope: req.auth?.payload.scope })
  })
  // Refusals as the library shapes them (status and WWW-Authenticate), without Express's default stack-trace logging.
  app.use(
    (err: { status?: number; headers?: Record<string, string> }, _req: Request, res: Response, _next: NextFunction) => {
      res
        .status(err.status ?? 500)
        .set(err.headers ?? {})
        .end()
    },
  )
  const listener = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => listener.once('listening', resolve))
  t.teardown(() => new Promise((resolve) => listener.close(resolve)))
  const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/notes`

  const ok = await fetch(url, { headers: { authorization: `Bearer ${await serviceToken()}` } })
  t.equal(ok.status, 200)
  t.same(await ok.json(), { sub: SERVICE.id, scope: 'notes:read' })
  const noScope = await fetch(url, { headers: { authorization: `Bearer ${await serviceToken('notes:write')}` } })
  t.equal(noScope.status, 403)
  t.match(noScope.headers.get('www-authenticate'), /insufficient_scope/)
  const none = await fetch(url)
  t.equal(none.status, 401)
  const forged = `${(await serviceToken()).slice(0, -4)}AAAA`
  t.equal((await fetch(url, { headers: { authorization: `Bearer ${forged}` } })).status, 401, 'a bad signature')
})
