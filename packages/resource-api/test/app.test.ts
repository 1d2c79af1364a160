import { createVerifier } from '@tollgate/shared'
import t from 'tap'
import { AUDIENCE, claims, ISSUER, JWKS_URI, jwksServer, makeKey, mint } from '../../shared/test/helpers.js'
import { buildApp } from '../src/app.js'
import { ConfigError, loadConfig } from '../src/config.js'

const key = await makeKey('k1')
const jwks = jwksServer([key.jwk])
const config = { ...loadConfig({ ISSUER, AUDIENCE }), jwksUri: JWKS_URI }
const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: jwks.fetch })
const app = await buildApp({ config, verifier, logger: false })
const auth = async (scope: string, sub = 'user-1') => ({
  authorization: `Bearer ${await mint(key, claims({ scope, sub }))}`,
})

t.test('config defaults and errors', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 3001)
  t.equal(c.audience, 'http://localhost:3001')
  t.equal(c.issuer, 'http://localhost:3000')
  t.throws(() => loadConfig({ PORT: 'x' }), ConfigError)
  t.throws(() => loadConfig({ JWKS_URI: 'nope' }), new ConfigError('JWKS_URI', 'must be an absolute http(s) URL'))
})

t.test('readyz reports whether keys are loaded', async (t) => {
  jwks.state.mode = 'error'
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503)
  jwks.state.mode = 'ok'
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
})

t.test('notes are per caller and need the right scopes', async (t) => {
  const write = await app.inject({
    method: 'POST',
    url: '/v1/notes',
    headers: await auth('notes:write'),
    payload: { text: 'hi' },
  })
  t.equal(write.statusCode, 201)
  t.equal(write.json().text, 'hi')
  const mine = await app.inject({ url: '/v1/notes', headers: await auth('notes:read') })
  t.same(
    mine.json().map((n: { text: string }) => n.text),
    ['hi'],
  )
  const theirs = await app.inject({ url: '/v1/notes', headers: await auth('notes:read', 'user-2') })
  t.same(theirs.json(), [])
  const denied = await app.inject({ url: '/v1/notes', headers: await auth('notes:write') })
  t.equal(denied.statusCode, 403)
})

t.test('authentication is checked before the body', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/v1/notes', payload: { bad: true } })
  t.equal(res.statusCode, 401)
})

t.test('an invalid body from an authorised caller is a 400, not a 500', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/notes',
    headers: await auth('notes:write'),
    payload: { text: '' },
  })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
})

t.test('/v1/me describes the caller', async (t) => {
  const res = await app.inject({ url: '/v1/me', headers: await auth('profile') })
  t.equal(res.statusCode, 200)
  t.same(res.json().sub, 'user-1')
})

t.test('/v1/me: a user token with its roles and auth_time; a service token with neither', async (t) => {
  const user = claims({ sub: 'user-7', client_id: 'web', scope: 'profile', roles: ['admin'], auth_time: 1_700_000_000 })
  const res = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${await mint(key, user)}` } })
  t.strictSame(res.json(), {
    sub: 'user-7',
    client_id: 'web',
    scope: 'profile',
    roles: ['admin'],
    auth_time: 1_700_000_000,
    exp: user.exp,
  })
  const service = claims({ sub: 'orders', client_id: 'orders', scope: 'notes:read' })
  const svc = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${await mint(key, service)}` } })
  t.strictSame(svc.json(), { sub: 'orders', client_id: 'orders', scope: 'notes:read', roles: [], exp: service.exp })
  t.notOk('auth_time' in svc.json(), 'no auth_time key at all, not null')
})
