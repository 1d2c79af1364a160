// Security headers on every kind of answer, and HSTS only for an HTTPS issuer.
import t from 'tap'
import { basic, form, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

t.test('every answer carries nosniff and the rest of helmet’s API headers', async (t) => {
  const { app } = await testServer({ ISSUER: 'http://localhost:3000' })
  const login = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'password', client_id: 'web', username: 'alice', password: USER_PASSWORD }),
  })
  const bearer = { authorization: `Bearer ${login.json().access_token}` }
  const service = { ...FORM, authorization: basic('service', SERVICE_SECRET) }
  const answers = {
    token: login,
    'token error': await app.inject({ method: 'POST', url: '/oauth/token', headers: FORM, payload: 'x=1' }),
    jwks: await app.inject({ url: '/.well-known/jwks.json' }),
    discovery: await app.inject({ url: '/.well-known/openid-configuration' }),
    introspect: await app.inject({ method: 'POST', url: '/oauth/introspect', headers: service, payload: 'token=x' }),
    revoke: await app.inject({ method: 'POST', url: '/oauth/revoke', headers: service, payload: 'token=x' }),
    userinfo: await app.inject({ url: '/userinfo', headers: bearer }),
    session: await app.inject({ url: '/session', headers: bearer }),
    'not found': await app.inject({ url: '/nope' }),
    healthz: await app.inject({ url: '/healthz' }),
  }
  for (const [name, res] of Object.entries(answers)) {
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${name} (${res.statusCode}): nosniff`)
    t.equal(res.headers['referrer-policy'], 'no-referrer', `${name}: Referrer-Policy`)
    t.equal(res.headers['x-frame-options'], 'SAMEORIGIN', `${name}: X-Frame-Options`)
    t.equal(res.headers['strict-transport-security'], undefined, `${name}: no HSTS for a plain-HTTP issuer`)
  }
})

t.test('an HTTPS issuer gets HSTS', async (t) => {
  const { app } = await testServer()
  const res = await app.inject({ url: '/.well-known/jwks.json' })
  t.match(res.headers['strict-transport-security'], /max-age=31536000; includeSubDomains/)
})
