import t from 'tap'
import { ISSUER, testServer } from '../helpers.js'

const { app, store } = await testServer()

t.test('metadata at both well-known paths, issuer exactly ISSUER', async (t) => {
  for (const url of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200)
    const meta = res.json()
    t.equal(meta.issuer, ISSUER)
    t.equal(meta.token_endpoint, `${ISSUER}/oauth/token`)
    t.equal(meta.jwks_uri, `${ISSUER}/.well-known/jwks.json`)
    t.same(meta.id_token_signing_alg_values_supported, ['RS256'])
    t.ok(meta.grant_types_supported.includes('client_credentials'))
    t.ok(meta.token_endpoint_auth_methods_supported.includes('client_secret_basic'))
  }
})

t.test(
  'scopes_supported lists the OIDC scopes and every registered client’s, and survives a store outage',
  async (t) => {
    const meta = (await app.inject({ url: '/.well-known/openid-configuration' })).json()
    t.same(meta.scopes_supported, ['openid', 'profile', 'email', 'notes:read', 'notes:write'])
    const { app: down, store: downStore } = await testServer()
    t.teardown(() => down.close())
    ;(downStore as unknown as { listClients: () => Promise<never> }).listClients = () =>
      Promise.reject(new Error('down'))
    const res = await down.inject({ url: '/.well-known/oauth-authorization-server' })
    t.equal(res.statusCode, 200, 'discovery answers while the store is away')
    t.same(res.json().scopes_supported, ['openid', 'profile', 'email'])
  },
)

t.test('the JWKS has the right media type and caching', async (t) => {
  const res = await app.inject({ url: '/.well-known/jwks.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/jwk-set\+json/)
  t.match(res.headers['cache-control'], /^public, max-age=\d+/)
  const { keys } = res.json()
  t.equal(keys.length, 1)
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) t.notOk(member in keys[0], `no ${member}`)
})

t.test('healthz and readyz', async (t) => {
  t.same((await app.inject({ url: '/healthz' })).json(), { status: 'ok' })
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', store: 'ok', keys: 'ok' })
})

t.test('readyz fails when the store does not answer', async (t) => {
  const original = store.ping.bind(store)
  store.ping = () => Promise.reject(new Error('down'))
  t.teardown(() => {
    store.ping = original
  })
  const res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().store, 'unreachable')
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
})

t.test('while draining after SIGTERM, readyz fails and everything else still answers', async (t) => {
  app.ctx.lifecycle.draining = true
  t.teardown(() => {
    app.ctx.lifecycle.draining = false
  })
  const res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().status, 'shutting down')
  t.equal((await app.inject({ url: '/.well-known/jwks.json' })).statusCode, 200)
})

t.test('unknown routes get a JSON 404', async (t) => {
  const res = await app.inject({ url: '/nope?token=secret' })
  t.equal(res.statusCode, 404)
  t.equal(res.json().error, 'not_found')
  t.notMatch(res.body, 'secret')
})

t.test('an unexpected failure is server_error without internals', async (t) => {
  const original = store.getClient.bind(store)
  store.getClient = () => Promise.reject(new TypeError('boom at /internal/path.ts:12'))
  t.teardown(() => {
    store.getClient = original
  })
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=client_credentials&client_id=x&client_secret=y',
  })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { error: 'server_error', error_description: 'internal error' })
})
