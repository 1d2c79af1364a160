// Signing algorithms per audience (SPEC "Signing algorithms"): every audience's tokens carry its algorithm, ID tokens
// the client's, SETs ACCESS_TOKEN_SIGNING_ALG; each algorithm's key rotates on its own, published before it signs.
import { accessTokenCheck, type KeySource } from '@tollgate/shared'
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import t from 'tap'
import type { BootstrapDocument } from '../../src/bootstrap.js'
import { basic, decodeJwt, form, ISSUER, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const RS = 'https://rs.test'
const ES = 'https://es.test'
const ED = 'https://ed.test'
const TX = 'urn:ietf:params:oauth:grant-type:token-exchange'
const AT = 'urn:ietf:params:oauth:token-type:access_token'
const doc: BootstrapDocument = {
  clients: [
    {
      client_id: 'service',
      client_secret: SERVICE_SECRET,
      grant_types: ['client_credentials'],
      scopes: ['notes:read'],
      audiences: [RS, ES, ED],
    },
    {
      client_id: 'es-web',
      public: true,
      grant_types: ['password', 'refresh_token'],
      scopes: ['openid', 'notes:read'],
      audiences: [ES],
      id_token_signed_response_alg: 'ES256',
    },
    {
      client_id: 'rs-web',
      public: true,
      grant_types: ['password'],
      scopes: ['openid', 'notes:read'],
      audiences: [RS],
    },
    {
      client_id: 'exchanger',
      client_secret: `${SERVICE_SECRET}-x`,
      grant_types: [TX],
      scopes: ['notes:read'],
      audiences: [ED],
      token_exchange: { subject_audiences: [ES], audiences: [ED] },
    },
  ],
  users: [{ username: 'alice', password: USER_PASSWORD }],
  resources: [
    { audience: ES, access_token_signing_alg: 'ES256' },
    { audience: ED, access_token_signing_alg: 'EdDSA' },
  ],
}
const PUBLISH_DELAY_MS = 60_000
const { app, keystore, clock } = await testServer(
  { SIGNING_ALGS: 'RS256,ES256,EdDSA', ACCESS_TOKEN_SIGNING_ALG: 'ES256' },
  { doc, keystore: { publishDelayMs: PUBLISH_DELAY_MS, retireAfterMs: 3_660_000 } },
)

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const token = async (fields: Record<string, string>, authorization?: string) => {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, ...(authorization ? { authorization } : {}) },
    payload: form(fields),
  })
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json()
}
const serviceToken = async (resource: string) =>
  (await token({ grant_type: 'client_credentials', resource }, basic('service', SERVICE_SECRET))).access_token as string
const jwks = async () => (await app.inject('/.well-known/jwks.json')).json() as JSONWebKeySet
/** What a resource server with a JWKS cache of this moment accepts. */
const verifierOf = (set: JSONWebKeySet, audience: string) => {
  const keys: KeySource = {
    async getKey(header) {
      return (await createLocalJWKSet(set)(header as never, { payload: '', signature: '' } as never)) as never
    },
  }
  return accessTokenCheck({ issuer: ISSUER, audience, keys, now: () => clock.now })
}

t.test('metadata lists the algorithms where they apply', async (t) => {
  const metadata = (await app.inject('/.well-known/openid-configuration')).json()
  t.same(metadata.id_token_signing_alg_values_supported, ['RS256', 'ES256', 'EdDSA'])
  t.same(metadata.revocation_events_signing_alg_values_supported, ['ES256'])
})

t.test('each audience gets tokens signed with its algorithm; each verifies with exactly that one', async (t) => {
  const set = await jwks()
  for (const [audience, alg] of [
    [RS, 'ES256'], // no resources entry: ACCESS_TOKEN_SIGNING_ALG
    [ES, 'ES256'],
    [ED, 'EdDSA'],
  ] as const) {
    const at = await serviceToken(audience)
    const { header } = decodeJwt(at)
    t.same(header, { alg, typ: 'at+jwt', kid: keystore.signingKey(alg).kid }, audience)
    const { payload } = await jwtVerify(at, createLocalJWKSet(set), { algorithms: [alg], audience })
    t.equal(payload.aud, audience)
    const others = ['RS256', 'ES256', 'EdDSA'].filter((a) => a !== alg)
    await t.rejects(jwtVerify(at, createLocalJWKSet(set), { algorithms: others }), 'no other algorithm verifies it')
    t.equal((await verifierOf(set, audience)(at)).claims.aud, audience, 'the shared core accepts it')
  }
})

t.test('ID tokens: RS256 unless the client registered id_token_signed_response_alg', async (t) => {
  const login = (client: string) =>
    token({ grant_type: 'password', client_id: client, username: 'alice', password: USER_PASSWORD, scope: 'openid' })
  const es = await login('es-web')
  t.equal(decodeJwt(es.id_token).header.alg, 'ES256')
  t.equal(decodeJwt(es.access_token).header.alg, 'ES256', 'its access token follows its audience')
  t.equal(decodeJwt((await login('rs-web')).id_token).header.alg, 'RS256')
  const { payload } = await jwtVerify(es.id_token, createLocalJWKSet(await jwks()), {
    algorithms: ['ES256'],
    issuer: ISSUER,
    audience: 'es-web',
  })
  t.equal(payload.aud, 'es-web')
  const refreshed = await token({ grant_type: 'refresh_token', client_id: 'es-web', refresh_token: es.refresh_token })
  t.equal(decodeJwt(refreshed.id_token).header.alg, 'ES256', 'and after a refresh')
  const logout = await app.inject({ url: `/oauth/logout?${new URLSearchParams({ id_token_hint: es.id_token })}` })
  t.equal(logout.statusCode, 200, 'an ES256 id_token_hint ends its session')
  t.match(logout.body, /signed out/i)
})

t.test('token exchange, introspection and revocation events work with any algorithm', async (t) => {
  const login = await token({
    grant_type: 'password',
    client_id: 'es-web',
    username: 'alice',
    password: USER_PASSWORD,
    scope: 'notes:read',
  })
  const exchanged = await token(
    { grant_type: TX, subject_token: login.access_token, subject_token_type: AT, audience: ED },
    basic('exchanger', `${SERVICE_SECRET}-x`),
  )
  t.equal(decodeJwt(exchanged.access_token).header.alg, 'EdDSA', 'an ES256 subject token exchanged for EdDSA')
  const introspect = (tokenValue: string) =>
    app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { ...FORM, authorization: basic('service', SERVICE_SECRET) },
      payload: form({ token: tokenValue }),
    })
  t.equal((await introspect(exchanged.access_token)).json().active, true)
  const revoked = await app.inject({
    method: 'POST',
    url: '/oauth/revoke',
    headers: { ...FORM, authorization: basic('exchanger', `${SERVICE_SECRET}-x`) },
    payload: form({ token: exchanged.access_token }),
  })
  t.equal(revoked.statusCode, 200)
  t.equal((await introspect(exchanged.access_token)).json().active, false)
  const { events } = (await app.inject('/revocation-events')).json() as { events: { set: string }[] }
  const set = events.at(-1)?.set as string
  t.equal(decodeJwt(set).header.alg, 'ES256', 'SETs are signed with ACCESS_TOKEN_SIGNING_ALG')
  const { payload } = await jwtVerify(set, createLocalJWKSet(await jwks()), {
    algorithms: ['ES256'],
    typ: 'secevent+jwt',
    issuer: ISSUER,
  })
  t.ok(payload.events)
})

t.test('an ES256 rotation is published before it signs, and ES256 tokens of the old key keep verifying', async (t) => {
  const old = keystore.signingKey('ES256').kid
  const rsa = keystore.signingKey('RS256').kid
  const before = await serviceToken(ES)
  const next = await keystore.rotate('ES256')
  const published = await jwks()
  t.ok(
    published.keys.some((k) => k.kid === next.kid),
    'the new key is in the JWKS at once',
  )
  t.equal(decodeJwt(await serviceToken(ES)).header.kid, old, 'but the old key still signs')
  // A verifier that fetched the JWKS now knows the next key before any token carries it.
  clock.now += PUBLISH_DELAY_MS
  const after = await serviceToken(ES)
  t.equal(decodeJwt(after).header.kid, next.kid, 'the new key signs after KEY_PUBLISH_DELAY')
  const check = verifierOf(published, ES)
  t.equal((await check(after)).kid, next.kid, 'a JWKS cached before the switch verifies the new tokens')
  t.equal((await check(before)).kid, old, 'and the old ones')
  t.equal((await verifierOf(await jwks(), ES)(before)).kid, old, 'the old key stays published while its tokens live')
  t.equal(keystore.signingKey('RS256').kid, rsa, 'the RS256 key did not move')
})
