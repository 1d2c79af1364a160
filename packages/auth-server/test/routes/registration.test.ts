// RFC 7591 registration and RFC 7592 client configuration: who may register under each REGISTRATION mode, every
// refusal with its RFC 7591 error code, and a registration access token that manages only its own client.
import t from 'tap'
import { adminServer } from '../admin-helpers.js'
import { API, basic, form } from '../helpers.js'

const server = await adminServer()
const { app, call, botToken } = server
const admin = await botToken('admin-bot')

const initialToken = async (body: Record<string, unknown> = {}) =>
  (await call('POST', '/admin/v1/initial-access-tokens', admin, body)).body.token as string
const register = (metadata: unknown, token?: string, target = app) =>
  target.inject({
    method: 'POST',
    url: '/oauth/register',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    payload: JSON.stringify(metadata),
  })
const service = { grant_types: ['client_credentials'], audiences: [API], scope: 'notes:read', client_name: 'Svc' }

t.test('discovery advertises the registration endpoint', async (t) => {
  const meta = (await app.inject({ url: '/.well-known/openid-configuration' })).json()
  t.equal(meta.registration_endpoint, 'https://auth.test/oauth/register')
  const { app: off } = await adminServer({ REGISTRATION: 'off' })
  t.notOk('registration_endpoint' in (await off.inject({ url: '/.well-known/openid-configuration' })).json())
  t.equal((await register(service, undefined, off)).statusCode, 404)
})

t.test('REGISTRATION=token: an initial access token is required, spent, and used up after max_uses', async (t) => {
  const none = await register(service)
  t.equal(none.statusCode, 401)
  t.match(none.headers['www-authenticate'], /^Bearer realm=/)
  const wrong = await register(service, 'AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB')
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().error, 'invalid_token')
  const token = await initialToken({ max_uses: 2 })
  const first = await register(service, token)
  t.equal(first.statusCode, 201)
  t.equal(first.headers['cache-control'], 'no-store')
  const body = first.json()
  t.match(body.client_id, /^[A-Za-z0-9_-]{22}$/)
  t.match(body.client_secret, /^[A-Za-z0-9_-]{43}$/)
  t.equal(body.client_secret_expires_at, 0)
  t.type(body.client_id_issued_at, 'number')
  t.type(body.registration_access_token, 'string')
  t.equal(body.registration_client_uri, `https://auth.test/oauth/register/${body.client_id}`)
  t.equal(body.token_endpoint_auth_method, 'client_secret_basic')
  t.same(body.grant_types, ['client_credentials'])
  t.same(body.response_types, [])
  t.equal(body.scope, 'notes:read')
  t.equal(body.client_name, 'Svc')
  const issued = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(body.client_id, body.client_secret),
    },
    payload: form({ grant_type: 'client_credentials' }),
  })
  t.equal(issued.statusCode, 200, 'the new client gets a token')
  t.equal(issued.json().scope, 'notes:read')
  t.equal((await register(service, token)).statusCode, 201, 'second use')
  t.equal((await register(service, token)).statusCode, 401, 'used up')
  const read = (await call('GET', `/admin/v1/clients/${body.client_id}`, admin)).body
  t.equal(read.dynamically_registered, true)
})

t.test('a refused registration leaves the initial access token unspent', async (t) => {
  const token = await initialToken({ max_uses: 1 })
  t.equal((await register({ grant_types: ['client_credentials'] }, token)).statusCode, 400)
  t.equal((await register(service, token)).statusCode, 201)
})

t.test('an expired initial access token is refused', async (t) => {
  const token = await initialToken({ expires_in: 60 })
  server.clock.now += 61_000
  t.equal((await register(service, token)).statusCode, 401)
})

t.test('every RFC 7591 refusal, with its error code and a description', async (t) => {
  const token = await initialToken({ max_uses: 100 })
  const jwt = (header: object) =>
    `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.sig`
  const cases: [unknown, string, RegExp][] = [
    [{ ...service, redirect_uris: ['https://app.example/cb#frag'] }, 'invalid_redirect_uri', /fragment/],
    [{ ...service, redirect_uris: ['not a uri'] }, 'invalid_redirect_uri', /absolute URI/],
    [{ ...service, redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri', /cannot be a redirect URI/],
    [{ ...service, post_logout_redirect_uris: ['https://x/#f'] }, 'invalid_redirect_uri', /fragment/],
    [
      { grant_types: ['authorization_code'], token_endpoint_auth_method: 'none', audiences: [API] },
      'invalid_redirect_uri',
      /redirect_uri/,
    ],
    [{ ...service, audiences: undefined }, 'invalid_client_metadata', /audiences/],
    [{ ...service, grant_types: ['implicit'] }, 'invalid_client_metadata', /grant type "implicit"/],
    [{ ...service, response_types: ['token'] }, 'invalid_client_metadata', /response_types/],
    [{ ...service, response_types: ['code'] }, 'invalid_client_metadata', /authorization_code/],
    [
      { ...service, token_endpoint_auth_method: 'tls_client_auth' },
      'invalid_client_metadata',
      /token_endpoint_auth_method/,
    ],
    [{ ...service, scope: 'notes:read tollgate:admin' }, 'invalid_client_metadata', /administrator/],
    [{ ...service, scopes: ['notes:read'] }, 'invalid_client_metadata', /"scope" instead of "scopes"/],
    [{ ...service, colour: 'blue' }, 'invalid_client_metadata', /unknown field "colour"/],
    [{ ...service, client_secret: 'x'.repeat(40) }, 'invalid_client_metadata', /issued by the server/],
    [{ ...service, dpop_bound_access_tokens: 'yes' }, 'invalid_client_metadata', /dpop_bound_access_tokens/],
    [
      { ...service, grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'] },
      'invalid_client_metadata',
      /token_exchange/,
    ],
    [{ ...service, software_statement: 'not-a-jwt' }, 'invalid_software_statement', /JWT/],
    [{ ...service, software_statement: jwt({ alg: 'RS256' }) }, 'unapproved_software_statement', /approves no/],
    [['an', 'array'], 'invalid_client_metadata', /JSON object/],
  ]
  for (const [metadata, error, description] of cases) {
    const res = await register(metadata, token)
    t.equal(res.statusCode, 400, JSON.stringify(metadata))
    t.equal(res.json().error, error, JSON.stringify(metadata))
    t.match(res.json().error_description, description)
  }
  const ignored = await register({ ...service, logo_uri: 'https://x/logo.png', contacts: ['ops@example.com'] }, token)
  t.equal(ignored.statusCode, 201, 'registered informational metadata is accepted (and not kept)')
  t.notOk('logo_uri' in ignored.json())
})

t.test('every client field can be registered: DPoP, token exchange, logout, origins', async (t) => {
  const token = await initialToken()
  const res = await register(
    {
      client_name: 'Full',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      redirect_uris: ['https://app.example/cb', 'com.example.app:/cb', 'http://127.0.0.1:8123/cb'],
      post_logout_redirect_uris: ['https://app.example/bye'],
      allowed_origins: ['https://app.example'],
      dpop_bound_access_tokens: true,
      token_exchange: { subject_audiences: ['https://app.example/api'], audiences: [API] },
      audiences: [API, 'https://app.example/api'],
      scope: 'openid notes:read',
      token_endpoint_auth_method: 'client_secret_post',
    },
    token,
  )
  t.equal(res.statusCode, 201, res.body)
  const body = res.json()
  t.equal(body.token_endpoint_auth_method, 'client_secret_post')
  t.same(body.response_types, ['code'])
  t.equal(body.dpop_bound_access_tokens, true)
  t.same(body.token_exchange, { subject_audiences: ['https://app.example/api'], audiences: [API] })
  t.same(body.post_logout_redirect_uris, ['https://app.example/bye'])
  t.same(body.allowed_origins, ['https://app.example'])
})

t.test('REGISTRATION=open: anyone registers a client that acts for users; the rest needs a token', async (t) => {
  const open = await adminServer({ REGISTRATION: 'open' })
  const app2 = open.app
  const spa = {
    client_name: 'MCP client',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1:33418/callback', 'https://spa.example/cb'],
    audiences: [API],
    scope: 'openid',
  }
  const res = await register(spa, undefined, app2)
  t.equal(res.statusCode, 201)
  t.same(res.json().grant_types, ['authorization_code'], 'RFC 7591 defaults')
  t.same(res.json().response_types, ['code'])
  t.notOk('client_secret' in res.json(), 'a public client')
  for (const grant of ['client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:token-exchange']) {
    const refused = await register({ ...service, grant_types: [grant] }, undefined, app2)
    t.equal(refused.statusCode, 400, grant)
    t.match(refused.json().error_description, /initial access token/)
  }
  const http = await register({ ...spa, redirect_uris: ['http://app.example/cb'] }, undefined, app2)
  t.equal(http.json().error, 'invalid_redirect_uri')
  const iat = (await open.call('POST', '/admin/v1/initial-access-tokens', await open.botToken('admin-bot'))).body
  t.equal((await register(service, iat.token as string, app2)).statusCode, 201, 'a token unlocks the rest')
  const events = (
    await open.call('GET', '/admin/v1/audit-events?type=client.registered', await open.botToken('admin-bot'))
  ).body.items as { actor: { type: string; id?: string } }[]
  t.same(events.map((e) => e.actor.type).sort(), ['anonymous', 'initial_access_token'])
})

t.test(
  'RFC 7592: read, update, rotate, delete with the registration access token, and nothing without it',
  async (t) => {
    const token = await initialToken()
    const registered = (await register(service, token)).json()
    const uri = new URL(registered.registration_client_uri).pathname
    const rat = registered.registration_access_token as string
    const as = (method: string, bearer: string | undefined, payload?: unknown, url = uri) =>
      app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
        ...(payload ? { payload: JSON.stringify(payload) } : {}),
      })

    for (const method of ['GET', 'PUT', 'DELETE']) {
      const none = await as(method, undefined, method === 'PUT' ? { client_id: registered.client_id } : undefined)
      t.equal(none.statusCode, 401, `${method} without the token`)
      t.match(none.headers['www-authenticate'], /^Bearer /)
      const bad = await as(method, `${rat}x`, method === 'PUT' ? { client_id: registered.client_id } : undefined)
      t.equal(bad.statusCode, 401, `${method} with a wrong token`)
      t.equal(bad.json().error, 'invalid_token')
    }
    const other = (await register(service, await initialToken())).json()
    t.equal((await as('GET', other.registration_access_token)).statusCode, 401, 'another client’s token')
    t.equal((await as('GET', rat, undefined, '/oauth/register/service')).statusCode, 401, 'a client it does not manage')

    const read = await as('GET', rat)
    const current = read.json() as Record<string, unknown>
    t.equal(read.statusCode, 200)
    t.equal(read.json().client_id, registered.client_id)
    t.notOk('client_secret' in read.json(), 'the secret is never read back')
    t.notOk('registration_access_token' in read.json())

    const missingId = await as('PUT', rat, { ...service })
    t.equal(missingId.statusCode, 400)
    t.equal(missingId.json().error, 'invalid_client_metadata')
    const wrongSecret = await as('PUT', rat, {
      ...service,
      client_id: registered.client_id,
      client_secret: 'y'.repeat(43),
    })
    t.equal(wrongSecret.json().error, 'invalid_client_metadata')
    const updated = await as('PUT', rat, {
      ...current,
      client_secret: registered.client_secret,
      client_name: 'Renamed',
      scope: undefined,
    })
    t.equal(updated.statusCode, 200, updated.body)
    t.equal(updated.json().client_name, 'Renamed')
    t.notOk('scope' in updated.json(), 'full replacement: a field left out is reset')
    const escalate = await as('PUT', rat, { ...current, scope: 'tollgate:admin' })
    t.equal(escalate.json().error, 'invalid_client_metadata')

    const rotated = await as('POST', rat, undefined, `${uri}/secret`)
    t.equal(rotated.statusCode, 200)
    t.not(rotated.json().client_secret, registered.client_secret)
    const cc = (secret: string) =>
      app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(registered.client_id, secret),
        },
        payload: form({ grant_type: 'client_credentials' }),
      })
    t.equal((await cc(registered.client_secret)).statusCode, 401, 'the old secret stops working')
    t.equal((await cc(rotated.json().client_secret)).statusCode, 200)

    t.equal((await as('DELETE', rat)).statusCode, 204)
    t.equal((await as('GET', rat)).statusCode, 401, 'a removed client: its token is refused')
    t.equal((await call('GET', `/admin/v1/clients/${registered.client_id}`, admin)).status, 404)
    t.equal((await cc(rotated.json().client_secret)).statusCode, 401)
  },
)
