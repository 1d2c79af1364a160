// Who may use the admin API (SPEC "Administration over HTTP"): admin-scoped tokens of this issuer, addressed to it,
// held by administrators only — and admin scopes are issued to nobody else.
import t from 'tap'
import { adminServer } from '../admin-helpers.js'
import { decodeJwt, form, USER_PASSWORD } from '../helpers.js'

const server = await adminServer()
const { call, botToken, userToken, app } = server

t.test('no token: 401 with a Bearer challenge', async (t) => {
  const res = await call('GET', '/admin/v1/clients', undefined)
  t.equal(res.status, 401)
  t.match(res.headers['www-authenticate'], /^Bearer realm="https:\/\/auth\.test"/)
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('a token without an admin scope: 403 insufficient_scope naming the area’s scope', async (t) => {
  const res = await call('GET', '/admin/v1/clients', await botToken('plain-bot'))
  t.equal(res.status, 403)
  t.equal(res.body.error, 'insufficient_scope')
  t.match(res.headers['www-authenticate'], /error="insufficient_scope".*scope="tollgate:admin:clients"/)
})

t.test('an area scope opens its area only', async (t) => {
  const clients = await botToken('clients-bot')
  t.equal((await call('GET', '/admin/v1/clients', clients)).status, 200)
  t.equal((await call('GET', '/admin/v1/initial-access-tokens', clients)).status, 200, 'tokens for registration')
  for (const url of ['/admin/v1/users', '/admin/v1/keys', '/admin/v1/audit-events']) {
    const res = await call('GET', url, clients)
    t.equal(res.status, 403, url)
    t.equal(res.body.error, 'insufficient_scope')
  }
  const audit = await botToken('audit-bot')
  t.equal((await call('GET', '/admin/v1/audit-events', audit)).status, 200)
  t.equal((await call('GET', '/admin/v1/clients', audit)).status, 403)
})

t.test('tollgate:admin opens every area', async (t) => {
  const admin = await botToken('admin-bot')
  for (const url of ['/admin/v1/clients', '/admin/v1/users', '/admin/v1/keys', '/admin/v1/audit-events']) {
    t.equal((await call('GET', url, admin)).status, 200, url)
  }
})

t.test('a token addressed to another audience is refused: a resource server cannot replay it here', async (t) => {
  const res = await call('GET', '/admin/v1/clients', await botToken('api-bot'))
  t.equal(res.status, 401)
  t.equal(res.body.error, 'invalid_token')
  t.match(String(res.body.error_description), /aud/)
})

t.test('users: only the admin role gets admin scopes, whatever the client may ask for', async (t) => {
  const alice = await userToken('alice')
  t.match(alice.scope, /tollgate:admin/)
  t.equal((await call('GET', '/admin/v1/users', alice.access_token)).status, 200, 'an administrator')

  const carol = await userToken('carol')
  t.notMatch(carol.scope, /tollgate:admin/, 'the scope is left out for a non-administrator')
  t.notMatch(String(decodeJwt(carol.access_token).payload.scope), /tollgate:admin/)
  const res = await call('GET', '/admin/v1/users', carol.access_token)
  t.equal(res.status, 403, 'a non-administrator')
  t.equal(res.body.error, 'insufficient_scope')

  const explicit = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({
      grant_type: 'password',
      client_id: 'console',
      username: 'carol',
      password: USER_PASSWORD,
      scope: 'openid tollgate:admin',
    }),
  })
  t.equal(explicit.statusCode, 200)
  t.equal(explicit.json().scope, 'openid', 'asked for explicitly: still not granted')
})

t.test(
  'an administrator demoted since signing in loses the API at once, and the scope at the next refresh',
  async (t) => {
    const { app: demo, call: demoCall, userToken: demoUser, botToken: demoBot } = await adminServer()
    const dave = { username: 'dave', password: USER_PASSWORD, roles: ['admin'] }
    const admin = await demoBot('admin-bot')
    const created = await demoCall('POST', '/admin/v1/users', admin, dave)
    t.equal(created.status, 201)
    const signedIn = await demoUser('dave')
    t.equal((await demoCall('GET', '/admin/v1/keys', signedIn.access_token)).status, 200)
    const demoted = await demoCall('PATCH', `/admin/v1/users/${created.body.sub}`, admin, { roles: [] })
    t.equal(demoted.status, 200)
    t.equal((await demoCall('GET', '/admin/v1/keys', signedIn.access_token)).status, 403, 'the role is read again')
    const refreshed = await demo.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ grant_type: 'refresh_token', client_id: 'console', refresh_token: signedIn.refresh_token }),
    })
    t.equal(refreshed.statusCode, 200)
    t.notMatch(refreshed.json().scope, /tollgate:admin/)
  },
)

t.test('a client whose admin scope was removed loses the API before its token expires', async (t) => {
  const { call: c, botToken: b } = await adminServer()
  const admin = await b('admin-bot')
  const clientsBot = await b('clients-bot')
  t.equal((await c('PATCH', '/admin/v1/clients/clients-bot', admin, { scopes: [] })).status, 200)
  t.equal((await c('GET', '/admin/v1/clients', clientsBot)).status, 403)
})

t.test('DPoP-bound admin tokens are honoured, and refused as Bearer', async (t) => {
  const { ath, dpopKey, proof } = await import('../dpop-helpers.js')
  const key = await dpopKey()
  // Proofs carry the real time; the server's clock stood still since it started.
  server.clock.now = Date.now()
  const tokenRes = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('admin-bot:admin-secret-0123456789abcdef0123456789abcdef').toString('base64')}`,
      dpop: await proof(key, 'POST', 'https://auth.test/oauth/token'),
    },
    payload: form({ grant_type: 'client_credentials' }),
  })
  t.equal(tokenRes.json().token_type, 'DPoP')
  const token = tokenRes.json().access_token as string
  const withProof = await app.inject({
    url: '/admin/v1/keys',
    headers: {
      authorization: `DPoP ${token}`,
      dpop: await proof(key, 'GET', 'https://auth.test/admin/v1/keys', { ath: ath(token) }),
    },
  })
  t.equal(withProof.statusCode, 200)
  const asBearer = await call('GET', '/admin/v1/keys', token)
  t.equal(asBearer.status, 401)
  const noProof = await app.inject({ url: '/admin/v1/keys', headers: { authorization: `DPoP ${token}` } })
  t.equal(noProof.statusCode, 401)
  t.match(noProof.headers['www-authenticate'], /^DPoP /)
})

t.test('the OpenAPI document describes the admin API and registration, with their security', async (t) => {
  const doc = (await app.inject({ url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, { security?: Record<string, string[]>[]; requestBody?: unknown }>>
  }
  const expected: [string, string][] = [
    ['/admin/v1/clients', 'get'],
    ['/admin/v1/clients', 'post'],
    ['/admin/v1/clients/{client_id}', 'put'],
    ['/admin/v1/clients/{client_id}', 'patch'],
    ['/admin/v1/clients/{client_id}', 'delete'],
    ['/admin/v1/clients/{client_id}/secret', 'post'],
    ['/admin/v1/users', 'get'],
    ['/admin/v1/users', 'post'],
    ['/admin/v1/users/{sub}', 'patch'],
    ['/admin/v1/users/{sub}', 'delete'],
    ['/admin/v1/users/{sub}/sessions', 'get'],
    ['/admin/v1/users/{sub}/sessions', 'delete'],
    ['/admin/v1/sessions/{id}', 'delete'],
    ['/admin/v1/keys', 'get'],
    ['/admin/v1/keys/rotate', 'post'],
    ['/admin/v1/initial-access-tokens', 'post'],
    ['/admin/v1/audit-events', 'get'],
    ['/admin/v1/audit-events/stream', 'get'],
  ]
  for (const [path, method] of expected) {
    const operation = doc.paths[path]?.[method]
    t.ok(operation, `${method.toUpperCase()} ${path}`)
    t.same(operation?.security?.flatMap(Object.keys), ['bearer', 'dpop'], `${path}: bearer or DPoP`)
  }
  t.ok(doc.paths['/admin/v1/clients']?.post?.requestBody, 'request bodies are described')
  t.ok(doc.paths['/oauth/register']?.post?.requestBody)
  for (const method of ['get', 'put', 'delete']) t.ok(doc.paths['/oauth/register/{client_id}']?.[method])
})
