// PROFILE=fapi2 (FAPI 2.0 Security Profile) end to end with unmodified oauth4webapi: a whole code flow with PAR,
// PKCE, private_key_jwt and DPoP succeeds; every forbidden thing is refused with the right error; a client that cannot
// meet the profile stops startup, named (issue 29).
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import * as oauth from 'oauth4webapi'
import t from 'tap'
import { ALICE, bootstrapDir } from '../support/fixtures.js'
import { submitLoginForm } from '../support/login-form.js'
import { freePort } from '../support/ports.js'
import { startProcess, stopWith } from '../support/processes.js'
import { ROOT, startAuthServer } from '../support/services.js'

const BANK = { id: 'bank-app', redirectUri: 'https://bank.example/cb' }
const { dir, keysDir } = await bootstrapDir('https://accounts.example')
const signing = await oauth.generateKeyPair('ES256', { extractable: true })
const publicJwk = { ...(await crypto.subtle.exportKey('jwk', signing.publicKey)), kid: 'bank-1', alg: 'ES256' }
delete (publicJwk as Record<string, unknown>).key_ops
delete (publicJwk as Record<string, unknown>).ext
const bankClient = {
  client_id: BANK.id,
  name: 'Bank app',
  grant_types: ['authorization_code', 'refresh_token'],
  scopes: ['openid', 'accounts'],
  audiences: ['https://accounts.example'],
  redirect_uris: [BANK.redirectUri],
  jwks: { keys: [publicJwk] },
  token_endpoint_auth_method: 'private_key_jwt',
}
const file = path.join(dir, 'fapi.json')
await writeFile(
  file,
  JSON.stringify({ clients: [bankClient], users: [{ username: ALICE.username, password: ALICE.password }] }),
)
const port = await freePort()
const issuerUrl = `http://127.0.0.1:${port}`
const auth = await startAuthServer({
  port,
  env: { ISSUER: issuerUrl, BOOTSTRAP_FILE: file, KEYS_DIR: keysDir, PROFILE: 'fapi2' },
})
stopWith(t, { 'the auth server': auth })
const insecure = { [oauth.allowInsecureRequests]: true }
const issuer = new URL(issuerUrl)
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure))
const client: oauth.Client = { client_id: BANK.id }
const clientAuth = oauth.PrivateKeyJwt({ key: signing.privateKey, kid: 'bank-1' })

/** A request retried once with the server's DPoP nonce, as oauth4webapi documents. */
async function withNonce<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt()
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return attempt()
    throw err
  }
}

t.test('metadata: private_key_jwt only, PAR required, no password grant, no RS256', async (t) => {
  t.same(as.token_endpoint_auth_methods_supported, ['private_key_jwt'])
  t.equal(as.require_pushed_authorization_requests, true)
  t.notOk((as.grant_types_supported as string[]).includes('password'))
  t.notOk((as.token_endpoint_auth_signing_alg_values_supported as string[]).includes('RS256'))
  t.notOk((as.dpop_signing_alg_values_supported as string[]).includes('RS256'))
  t.equal(as.authorization_response_iss_parameter_supported, true)
})

t.test('oauth4webapi: PAR + PKCE + private_key_jwt + DPoP — the whole code flow, then a refresh', async (t) => {
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const pushed = await withNonce(async () =>
    oauth.processPushedAuthorizationResponse(
      as,
      client,
      await oauth.pushedAuthorizationRequest(
        as,
        client,
        clientAuth,
        {
          response_type: 'code',
          redirect_uri: BANK.redirectUri,
          scope: 'openid accounts',
          state,
          code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        },
        { ...insecure, DPoP },
      ),
    ),
  )
  const url = new URL(as.authorization_endpoint as string)
  url.search = new URLSearchParams({ client_id: BANK.id, request_uri: pushed.request_uri }).toString()
  const callback = await submitLoginForm(url, ALICE.username, ALICE.password)
  const params = oauth.validateAuthResponse(as, client, callback, state)
  const tokens = await withNonce(async () =>
    oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, BANK.redirectUri, verifier, {
        ...insecure,
        DPoP,
      }),
    ),
  )
  t.equal(tokens.token_type.toLowerCase(), 'dpop', 'sender-constrained')
  t.type(tokens.refresh_token, 'string')
  const refreshed = await withNonce(async () =>
    oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token as string, {
        ...insecure,
        DPoP,
      }),
    ),
  )
  t.equal(refreshed.token_type.toLowerCase(), 'dpop')
})

/** A raw token-endpoint request with a client assertion built by hand (to break one rule at a time). */
async function assertion(claims: Record<string, unknown> = {}, alg = 'ES256', key = signing.privateKey) {
  const now = Math.floor(Date.now() / 1000)
  const body = {
    iss: BANK.id,
    sub: BANK.id,
    aud: issuerUrl,
    iat: now,
    exp: now + 60,
    jti: crypto.randomUUID(),
    ...claims,
  }
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${b64({ alg, kid: 'bank-1', typ: 'JWT' })}.${b64(body)}`
  const signature = Buffer.from(
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(input)),
  ).toString('base64url')
  return `${input}.${signature}`
}
const tokenRequest = async (fields: Record<string, string>) => {
  const res = await fetch(`${issuerUrl}/oauth/token`, { method: 'POST', body: new URLSearchParams(fields) })
  return { status: res.status, body: (await res.json()) as Record<string, string> }
}
const assertionFields = async (claims?: Record<string, unknown>) => ({
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: await assertion(claims),
})

t.test('forbidden under the profile, each with its error', async (t) => {
  // An assertion addressed to the token endpoint URL: FAPI 2.0 wants the issuer only.
  const wrongAud = await tokenRequest({
    grant_type: 'refresh_token',
    refresh_token: 'x',
    ...(await assertionFields({ aud: `${issuerUrl}/oauth/token` })),
  })
  t.equal(wrongAud.status, 401)
  t.equal(wrongAud.body.error, 'invalid_client')
  // A client secret (or none at all): not private_key_jwt.
  const secret = await tokenRequest({
    grant_type: 'refresh_token',
    refresh_token: 'x',
    client_id: BANK.id,
    client_secret: 'x'.repeat(40),
  })
  t.equal(secret.status, 401)
  t.equal(secret.body.error, 'invalid_client')
  // The password grant.
  const password = await tokenRequest({
    grant_type: 'password',
    username: ALICE.username,
    password: ALICE.password,
    ...(await assertionFields()),
  })
  t.equal(password.status, 400)
  t.match(password.body.error, /^(unauthorized_client|unsupported_grant_type)$/)
  // A bearer (unbound) token: no DPoP proof.
  const bearer = await tokenRequest({ grant_type: 'refresh_token', refresh_token: 'x', ...(await assertionFields()) })
  t.equal(bearer.status, 400)
  t.equal(bearer.body.error, 'invalid_dpop_proof')
  // An authorization request without PAR.
  const direct = await fetch(
    `${issuerUrl}/oauth/authorize?${new URLSearchParams({
      client_id: BANK.id,
      response_type: 'code',
      redirect_uri: BANK.redirectUri,
      state: 's',
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
    })}`,
    { redirect: 'manual' },
  )
  t.equal(direct.status, 303)
  t.equal(new URL(direct.headers.get('location') as string).searchParams.get('error'), 'invalid_request')
  // PKCE other than S256, even pushed.
  const plain = await fetch(`${issuerUrl}/oauth/par`, {
    method: 'POST',
    body: new URLSearchParams({
      response_type: 'code',
      redirect_uri: BANK.redirectUri,
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'plain',
      ...(await assertionFields()),
    }),
  })
  t.equal(plain.status, 400)
  t.equal(((await plain.json()) as { error: string }).error, 'invalid_request')
})

t.test('a client that cannot meet the profile stops startup, named with the reason', async (t) => {
  for (const [name, change, reason] of [
    ['public', { public: true, jwks: undefined, token_endpoint_auth_method: undefined }, /public client/],
    [
      'secret',
      { client_secret: 's'.repeat(40), jwks: undefined, token_endpoint_auth_method: undefined },
      /private_key_jwt only/,
    ],
    ['password', { grant_types: ['password', 'refresh_token'] }, /password grant/],
    ['http redirect', { redirect_uris: ['http://bank.example/cb'] }, /must be https/],
  ] as const) {
    const bad = path.join(dir, `bad-${name.replace(' ', '-')}.json`)
    const entry: Record<string, unknown> = { ...bankClient, client_id: `bad-${name.replace(' ', '-')}`, ...change }
    for (const [k, v] of Object.entries(entry)) if (v === undefined) delete entry[k]
    await writeFile(bad, JSON.stringify({ clients: [entry] }))
    const run = startProcess(process.execPath, [`${ROOT}packages/auth-server/dist/server.bundle.js`], {
      env: { ...process.env, PORT: '0', ISSUER: issuerUrl, BOOTSTRAP_FILE: bad, KEYS_DIR: keysDir, PROFILE: 'fapi2' },
    })
    t.teardown(() => run.stop())
    t.equal(await run.exited, 1, name)
    t.match(run.output(), new RegExp(`client ${entry.client_id}: .*${reason.source}`), `${name}: named, with why`)
  }
})
