// DPoP at the auth server (RFC 9449): bound tokens from every grant and the browser session, bound refresh tokens
// for public clients, proofs checked exactly (and refused the many ways a forged one can be wrong), nonces.
import { exportJWK, generateKeyPair } from 'jose'
import t from 'tap'
import { ath, dpopKey, hmacProof, proof, unsignedProof } from '../dpop-helpers.js'
import { basic, decodeJwt, form, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const ISSUER = 'https://auth.test'
const TOKEN = `${ISSUER}/oauth/token`
const { app } = await testServer(
  { ISSUER, COOKIE_SECURE: 'false' },
  {
    doc: {
      clients: [
        {
          client_id: 'service',
          client_secret: SERVICE_SECRET,
          grant_types: ['client_credentials'],
          scopes: ['notes:read'],
          audiences: ['https://api.test'],
        },
        {
          client_id: 'bound-service',
          client_secret: SERVICE_SECRET,
          grant_types: ['client_credentials'],
          scopes: ['notes:read'],
          audiences: ['https://api.test'],
          dpop_bound_access_tokens: true,
        },
        {
          client_id: 'web',
          public: true,
          grant_types: ['password', 'refresh_token'],
          scopes: ['openid', 'notes:read'],
          audiences: ['https://api.test'],
          allowed_origins: ['https://app.test'],
        },
        {
          client_id: 'bff',
          client_secret: SERVICE_SECRET,
          grant_types: ['password', 'refresh_token'],
          scopes: ['openid', 'notes:read'],
          audiences: ['https://api.test'],
        },
      ],
      users: [{ username: 'alice', password: USER_PASSWORD }],
    },
  },
)
const key = await dpopKey('ES256')
const other = await dpopKey('EdDSA')

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const token = async (fields: Record<string, string>, headers: Record<string, string | string[]> = {}) =>
  app.inject({ method: 'POST', url: '/oauth/token', headers: { ...FORM, ...headers }, payload: form(fields) })
const service = (client = 'service') => ({ authorization: basic(client, SERVICE_SECRET) })
const cc = async (dpop?: string | string[], client = 'service') =>
  token({ grant_type: 'client_credentials' }, { ...service(client), ...(dpop ? { dpop } : {}) })
const refusal = (res: Awaited<ReturnType<typeof token>>) => `${res.statusCode} ${res.json().error}`

t.test('client_credentials with a proof: a DPoP-bound access token', async (t) => {
  const res = await cc(await proof(key, 'POST', TOKEN))
  t.equal(res.statusCode, 200)
  t.equal(res.json().token_type, 'DPoP')
  const { payload } = decodeJwt(res.json().access_token)
  t.same(payload.cnf, { jkt: key.jkt }, 'cnf.jkt is the RFC 7638 thumbprint of the proof key')
  const plain = await cc()
  t.equal(plain.json().token_type, 'Bearer')
  t.equal(decodeJwt(plain.json().access_token).payload.cnf, undefined)
  const introspected = await app.inject({
    method: 'POST',
    url: '/oauth/introspect',
    headers: { ...FORM, ...service() },
    payload: form({ token: res.json().access_token }),
  })
  t.match(introspected.json(), { active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } })
})

t.test('a client with dpop_bound_access_tokens gets nothing without a proof', async (t) => {
  t.equal(refusal(await cc(undefined, 'bound-service')), '400 invalid_dpop_proof')
  t.equal((await cc(await proof(key, 'POST', TOKEN), 'bound-service')).statusCode, 200)
})

t.test('proofs are checked exactly as RFC 9449 §4.3 says', async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const privateJwk = await exportJWK(privateKey)
  void publicKey
  const now = Math.floor(Date.now() / 1000)
  const used = await proof(key, 'POST', TOKEN)
  t.equal((await cc(used)).statusCode, 200)
  const cases: [string, string | string[]][] = [
    ['a replayed proof', used],
    ['another method', await proof(key, 'GET', TOKEN)],
    ['another URL', await proof(key, 'POST', `${ISSUER}/oauth/introspect`)],
    ['another host', await proof(key, 'POST', 'https://evil.test/oauth/token')],
    ['a stale iat', await proof(key, 'POST', TOKEN, { iat: now - 600 })],
    ['an iat in the future', await proof(key, 'POST', TOKEN, { iat: now + 600 })],
    ['no jti', await proof(key, 'POST', TOKEN, { jti: undefined })],
    ['typ JWT', await proof(key, 'POST', TOKEN, {}, { typ: 'JWT' })],
    ['a private key in jwk', await proof(key, 'POST', TOKEN, {}, { jwk: privateJwk })],
    ['no jwk', await proof(key, 'POST', TOKEN, {}, { jwk: undefined })],
    ['another key in jwk than signed', await proof(key, 'POST', TOKEN, {}, { jwk: other.jwk })],
    ['alg none', unsignedProof({ typ: 'dpop+jwt', jwk: key.jwk }, { htm: 'POST', htu: TOKEN, jti: 'x', iat: now })],
    [
      'alg HS256',
      hmacProof({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.jwk }, { htm: 'POST', htu: TOKEN, jti: 'y', iat: now }),
    ],
    ['two DPoP headers', [await proof(key, 'POST', TOKEN), await proof(key, 'POST', TOKEN)]],
    ['garbage', 'not.a.jwt'],
  ]
  for (const [name, dpop] of cases) t.equal(refusal(await cc(dpop)), '400 invalid_dpop_proof', name)
  const query = await proof(key, 'POST', `${TOKEN}?x=1#frag`)
  t.equal((await cc(query)).statusCode, 200, 'htu is compared without query and fragment')
})

t.test(
  'a public client’s refresh token is bound to the key: no other key, no proof — and nothing is spent',
  async (t) => {
    const login = await token(
      { grant_type: 'password', client_id: 'web', username: 'alice', password: USER_PASSWORD },
      { dpop: await proof(key, 'POST', TOKEN) },
    )
    t.equal(login.json().token_type, 'DPoP')
    const refresh = login.json().refresh_token as string
    const again = (dpop?: string) =>
      token({ grant_type: 'refresh_token', client_id: 'web', refresh_token: refresh }, dpop ? { dpop } : {})
    t.equal(refusal(await again()), '400 invalid_dpop_proof', 'no proof')
    t.equal(refusal(await again(await proof(other, 'POST', TOKEN))), '400 invalid_dpop_proof', 'another key')
    const ok = await again(await proof(key, 'POST', TOKEN))
    t.equal(ok.statusCode, 200, 'the refresh token was neither spent nor its session revoked')
    t.same(decodeJwt(ok.json().access_token).payload.cnf, { jkt: key.jkt })
  },
)

t.test(
  'a confidential client’s refresh token is not bound; its access tokens are, when it sends a proof',
  async (t) => {
    const login = await token(
      { grant_type: 'password', username: 'alice', password: USER_PASSWORD },
      { ...service('bff'), dpop: await proof(key, 'POST', TOKEN) },
    )
    const res = await token({ grant_type: 'refresh_token', refresh_token: login.json().refresh_token }, service('bff'))
    t.equal(res.statusCode, 200)
    t.equal(res.json().token_type, 'Bearer')
  },
)

t.test('DPoP at /userinfo: the DPoP scheme with ath; a bound token sent as Bearer is refused', async (t) => {
  const login = await token(
    { grant_type: 'password', client_id: 'web', username: 'alice', password: USER_PASSWORD, scope: 'openid' },
    { dpop: await proof(key, 'POST', TOKEN) },
  )
  const access = login.json().access_token as string
  const userinfo = (headers: Record<string, string>) => app.inject({ url: '/userinfo', headers })
  const good = await userinfo({
    authorization: `DPoP ${access}`,
    dpop: await proof(key, 'GET', `${ISSUER}/userinfo`, { ath: ath(access) }),
  })
  t.equal(good.statusCode, 200)
  const asBearer = await userinfo({ authorization: `Bearer ${access}` })
  t.equal(asBearer.statusCode, 401)
  t.match(asBearer.headers['www-authenticate'], /DPoP realm="[^"]+", algs="ES256/)
  const wrongAth = await userinfo({
    authorization: `DPoP ${access}`,
    dpop: await proof(key, 'GET', `${ISSUER}/userinfo`, { ath: ath('another token') }),
  })
  t.equal(wrongAth.statusCode, 401)
  t.match(wrongAth.headers['www-authenticate'], /^DPoP .*error="invalid_dpop_proof"/)
  const otherKey = await userinfo({
    authorization: `DPoP ${access}`,
    dpop: await proof(other, 'GET', `${ISSUER}/userinfo`, { ath: ath(access) }),
  })
  t.equal(otherKey.statusCode, 401, 'a proof by another key than the token’s')
})

t.test('browser sessions: the cookie is bound to the page’s key', async (t) => {
  const origin = 'https://app.test'
  const signIn = await app.inject({
    method: 'POST',
    url: '/session/login',
    headers: { 'content-type': 'application/json', origin, dpop: await proof(key, 'POST', `${ISSUER}/session/login`) },
    payload: { client_id: 'web', username: 'alice', password: USER_PASSWORD },
  })
  t.equal(signIn.json().token_type, 'DPoP')
  const cookie = signIn.cookies.find((c) => c.name === 'tg_session')?.value as string
  const refresh = (dpop?: string) =>
    app.inject({
      method: 'POST',
      url: '/session/refresh',
      headers: { origin, ...(dpop ? { dpop } : {}) },
      cookies: { tg_session: cookie },
    })
  const stolen = await refresh()
  t.equal(stolen.statusCode, 400)
  t.equal(stolen.json().error, 'invalid_dpop_proof')
  t.equal(stolen.cookies.length, 0, 'the cookie is left alone')
  t.equal((await refresh(await proof(key, 'POST', `${ISSUER}/session/refresh`))).statusCode, 200)
})

t.test('metadata lists the DPoP algorithms', async (t) => {
  const metadata = (await app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
  t.same(metadata.dpop_signing_alg_values_supported, ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'RS256', 'PS256'])
})

t.test('DPOP_NONCE=required: use_dpop_nonce with a DPoP-Nonce, then accepted with it', async (t) => {
  const { app: strict } = await testServer({ ISSUER, DPOP_NONCE: 'required' })
  const request = (dpop: string) =>
    strict.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, ...service(), dpop },
      payload: form({ grant_type: 'client_credentials' }),
    })
  const first = await request(await proof(key, 'POST', TOKEN))
  t.equal(first.statusCode, 400)
  t.equal(first.json().error, 'use_dpop_nonce')
  const nonce = first.headers['dpop-nonce'] as string
  t.match(nonce, /^[A-Za-z0-9_-]{32}$/)
  const second = await request(await proof(key, 'POST', TOKEN, { nonce }))
  t.equal(second.statusCode, 200)
  t.type(second.headers['dpop-nonce'], 'string', 'the answer carries the nonce to use next')
  t.equal((await request(await proof(key, 'POST', TOKEN, { nonce: 'forged' }))).json().error, 'use_dpop_nonce')
})
