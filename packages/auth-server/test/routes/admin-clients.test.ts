// /admin/v1/clients: the bootstrap file's validation, ETags that stop lost updates, secrets shown once, removals
// that revoke, and administrators who grant only what they hold.
import t from 'tap'
import { adminServer } from '../admin-helpers.js'
import { API, basic, form } from '../helpers.js'

const { call, botToken, app } = await adminServer()
const admin = await botToken('admin-bot')
const clientsAdmin = await botToken('clients-bot')

const ccToken = (id: string, secret: string) =>
  app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret) },
    payload: form({ grant_type: 'client_credentials' }),
  })

t.test('create: a confidential client gets a generated secret, shown once, that works at once', async (t) => {
  const res = await call('POST', '/admin/v1/clients', admin, {
    client_id: 'billing',
    name: 'Billing',
    grant_types: ['client_credentials'],
    scopes: ['notes:read'],
    audiences: [API],
  })
  t.equal(res.status, 201)
  t.equal(res.headers.location, '/admin/v1/clients/billing')
  t.match(res.headers.etag, /^"\d+"$/)
  t.match(res.body.client_secret, /^[A-Za-z0-9_-]{43}$/)
  t.equal((await ccToken('billing', res.body.client_secret as string)).statusCode, 200)
  const read = await call('GET', '/admin/v1/clients/billing', admin)
  t.equal(read.status, 200)
  t.equal(read.headers.etag, res.headers.etag)
  t.notOk('client_secret' in read.body, 'never shown again')
  t.notMatch(JSON.stringify(read.body), /hmac|secret_hash/)
  t.equal(read.body.name, 'Billing')
  t.equal(read.body.dynamically_registered, false)
})

t.test('create: the bootstrap file’s validation, field by field, in the error model', async (t) => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ client_id: 'x', grant_types: ['client_credentials'] }, 'invalid_client_metadata', /audiences/],
    [
      { client_id: 'x', grant_types: ['client_credentials'], audiences: [API], scops: ['a'] },
      'invalid_client_metadata',
      /unknown field "scops"/,
    ],
    [
      { client_id: 'x', grant_types: ['authorization_code'], audiences: [API], public: true },
      'invalid_redirect_uri',
      /redirect_uri/,
    ],
    [
      {
        client_id: 'x',
        public: true,
        grant_types: ['authorization_code'],
        audiences: [API],
        redirect_uris: ['https://a#b'],
      },
      'invalid_redirect_uri',
      /fragment/,
    ],
    [
      { client_id: 'x', grant_types: ['client_credentials'], audiences: [API], client_secret: 'short' },
      'invalid_client_metadata',
      /at least 32/,
    ],
    [
      { client_id: 'bad id!', grant_types: ['client_credentials'], audiences: [API] },
      'invalid_client_metadata',
      /client_id/,
    ],
  ]
  for (const [body, error, description] of cases) {
    const res = await call('POST', '/admin/v1/clients', admin, body)
    t.equal(res.status, 400, JSON.stringify(body))
    t.equal(res.body.error, error)
    t.match(res.body.error_description, description)
  }
  const taken = await call('POST', '/admin/v1/clients', admin, {
    client_id: 'service',
    grant_types: ['client_credentials'],
    audiences: [API],
  })
  t.equal(taken.status, 409)
  t.equal(taken.body.error, 'conflict')
})

t.test('a stale ETag is 412 and changes nothing; the current one applies', async (t) => {
  const created = await call('POST', '/admin/v1/clients', admin, {
    client_id: 'inventory',
    grant_types: ['client_credentials'],
    scopes: ['notes:read'],
    audiences: [API],
  })
  const etag = created.headers.etag as string
  const first = await call('PATCH', '/admin/v1/clients/inventory', admin, { name: 'Inventory' }, { 'if-match': etag })
  t.equal(first.status, 200)
  t.not(first.headers.etag, etag, 'a new version')
  const second = await call('PATCH', '/admin/v1/clients/inventory', admin, { name: 'Lost' }, { 'if-match': etag })
  t.equal(second.status, 412, 'the other administrator’s write, based on the old version')
  t.equal(second.body.error, 'precondition_failed')
  t.equal((await call('GET', '/admin/v1/clients/inventory', admin)).body.name, 'Inventory')
  for (const method of ['PUT', 'DELETE'] as const) {
    const res = await call(
      method,
      '/admin/v1/clients/inventory',
      admin,
      method === 'PUT' ? { grant_types: ['client_credentials'], audiences: [API] } : undefined,
      { 'if-match': etag },
    )
    t.equal(res.status, 412, method)
  }
  t.equal(
    (await call('POST', '/admin/v1/clients/inventory/secret', admin, undefined, { 'if-match': etag })).status,
    412,
  )
  t.equal(
    (await call('PATCH', '/admin/v1/clients/inventory', admin, { name: 'W' }, { 'if-match': 'W/"1"' })).status,
    412,
  )
  t.equal(
    (await call('PATCH', '/admin/v1/clients/inventory', admin, { name: 'Star' }, { 'if-match': '*' })).status,
    200,
  )
})

t.test('PUT replaces: fields left out take their defaults, the secret stays', async (t) => {
  const created = await call('POST', '/admin/v1/clients', admin, {
    client_id: 'reports',
    name: 'Reports',
    grant_types: ['client_credentials'],
    scopes: ['notes:read', 'notes:write'],
    audiences: [API],
  })
  const secret = created.body.client_secret as string
  const put = await call('PUT', '/admin/v1/clients/reports', admin, {
    grant_types: ['client_credentials'],
    audiences: [API],
    created_at: 'ignored: read-only fields are accepted back',
  })
  t.equal(put.status, 200)
  t.same(put.body.scopes, [])
  t.notOk('name' in put.body)
  t.notOk('client_secret' in put.body, 'no new secret')
  t.equal((await ccToken('reports', secret)).statusCode, 200, 'the secret still works')
  const renamed = await call('PUT', '/admin/v1/clients/reports', admin, {
    client_id: 'other',
    grant_types: ['client_credentials'],
    audiences: [API],
  })
  t.equal(renamed.status, 400)
})

t.test('PATCH merges (RFC 7396): null resets a field; the result is validated as a whole', async (t) => {
  await call('POST', '/admin/v1/clients', admin, {
    client_id: 'merge',
    name: 'Merge',
    grant_types: ['client_credentials'],
    scopes: ['a'],
    audiences: [API],
  })
  const res = await call(
    'PATCH',
    '/admin/v1/clients/merge',
    admin,
    { name: null, scopes: ['b'] },
    {
      'content-type': 'application/merge-patch+json',
    },
  )
  t.equal(res.status, 200)
  t.notOk('name' in res.body)
  t.same(res.body.scopes, ['b'])
  const bad = await call('PATCH', '/admin/v1/clients/merge', admin, { audiences: [] })
  t.equal(bad.status, 400)
  t.equal(bad.body.error, 'invalid_client_metadata')
})

t.test('rotating a secret: the new one is shown once and works, the old one stops at once', async (t) => {
  const created = await call('POST', '/admin/v1/clients', admin, {
    client_id: 'rotating',
    grant_types: ['client_credentials'],
    audiences: [API],
  })
  const old = created.body.client_secret as string
  const rotated = await call('POST', '/admin/v1/clients/rotating/secret', admin, undefined, {
    'if-match': created.headers.etag as string,
  })
  t.equal(rotated.status, 200)
  t.not(rotated.body.client_secret, old)
  t.equal((await ccToken('rotating', rotated.body.client_secret as string)).statusCode, 200)
  t.equal((await ccToken('rotating', old)).statusCode, 401)
  const publicClient = await call('POST', '/admin/v1/clients/web/secret', admin)
  t.equal(publicClient.status, 400, 'a public client has no secret')
})

t.test('delete: the client is gone and its tokens are refused', async (t) => {
  const created = await call('POST', '/admin/v1/clients', admin, {
    client_id: 'doomed',
    grant_types: ['client_credentials'],
    scopes: ['openid'],
    audiences: [API],
  })
  const token = (await ccToken('doomed', created.body.client_secret as string)).json().access_token as string
  const introspect = async () =>
    (
      await app.inject({
        method: 'POST',
        url: '/oauth/introspect',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic('service', 'service-secret-0123456789abcdef0123456789'),
        },
        payload: form({ token }),
      })
    ).json().active
  t.equal(await introspect(), true)
  t.equal((await call('DELETE', '/admin/v1/clients/doomed', admin)).status, 204)
  t.equal(await introspect(), false, 'revoked')
  t.equal((await call('GET', '/admin/v1/clients/doomed', admin)).status, 404)
  t.equal((await call('DELETE', '/admin/v1/clients/doomed', admin)).status, 404)
})

t.test('an area administrator grants only the admin scopes it holds, and touches no client holding more', async (t) => {
  const grant = await call('POST', '/admin/v1/clients', clientsAdmin, {
    client_id: 'sneaky',
    grant_types: ['client_credentials'],
    scopes: ['tollgate:admin'],
    audiences: [API],
  })
  t.equal(grant.status, 403)
  t.equal(grant.body.error, 'insufficient_scope')
  t.equal((await call('GET', '/admin/v1/clients/sneaky', admin)).status, 404, 'nothing was written')
  t.equal((await call('POST', '/admin/v1/clients/admin-bot/secret', clientsAdmin)).status, 403, 'no secret to steal')
  t.equal((await call('DELETE', '/admin/v1/clients/admin-bot', clientsAdmin)).status, 403)
  const own = await call('POST', '/admin/v1/clients', clientsAdmin, {
    client_id: 'deputy',
    grant_types: ['client_credentials'],
    scopes: ['tollgate:admin:clients'],
    audiences: [API],
  })
  t.equal(own.status, 201, 'its own scope it may grant')
})

t.test('list: by client_id, in pages with a cursor, searchable', async (t) => {
  const all: string[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 20; pages++) {
    const res = await call('GET', `/admin/v1/clients?limit=3${cursor ? `&cursor=${cursor}` : ''}`, admin)
    t.equal(res.status, 200)
    const items = res.body.items as { client_id: string }[]
    t.ok(items.length <= 3)
    all.push(...items.map((c) => c.client_id))
    cursor = (res.body.next_cursor as string | null) ?? undefined
    if (cursor === undefined) break
    t.match(res.headers.link, /rel="next"/)
  }
  t.same(all, [...all].sort(), 'in order')
  t.equal(new Set(all).size, all.length, 'each once')
  t.ok(all.includes('admin-bot') && all.includes('web'))
  const found = await call('GET', '/admin/v1/clients?q=BOT', admin)
  t.ok((found.body.items as { client_id: string }[]).every((c) => c.client_id.includes('bot')))
  t.equal((await call('GET', '/admin/v1/clients?cursor=%%%', admin)).status, 400)
})

t.test('every field of a definition shows, survives a PATCH and round-trips through PUT', async (t) => {
  const definition = {
    client_id: 'everything',
    name: 'Everything',
    public: true,
    grant_types: ['authorization_code', 'refresh_token'],
    scopes: ['openid'],
    audiences: [API],
    redirect_uris: ['https://app.example/cb'],
    allowed_origins: ['https://app.example'],
    dpop_bound_access_tokens: true,
    post_logout_redirect_uris: ['https://app.example/bye'],
    require_pushed_authorization_requests: true,
  }
  const created = await call('POST', '/admin/v1/clients', admin, definition)
  t.equal(created.status, 201)
  t.match(created.body, definition)
  const patched = await call('PATCH', '/admin/v1/clients/everything', admin, { name: 'Renamed' })
  t.match(patched.body, { ...definition, name: 'Renamed' }, 'fields the patch does not name stay')
  const read = await call('GET', '/admin/v1/clients/everything', admin)
  const put = await call('PUT', '/admin/v1/clients/everything', admin, read.body, {
    'if-match': read.headers.etag as string,
  })
  t.equal(put.status, 200, 'what GET shows is a valid PUT')
  t.match(put.body, { ...definition, name: 'Renamed' })
})
