// OpenAPI at /docs/json (and Swagger UI at /docs), generated from the route schemas: every route documented.
import t from 'tap'
import { testServer } from '../helpers.js'

const { app } = await testServer()
t.teardown(() => app.close())

interface Operation {
  responses?: Record<string, unknown>
  requestBody?: { content: Record<string, unknown> }
  parameters?: { name: string; in: string }[]
}

t.test(
  'security schemes: client authentication, bearer and DPoP, on the routes that use them; /metrics documented',
  async (t) => {
    const doc = (await app.inject({ url: '/docs/json' })).json() as {
      components: { securitySchemes: Record<string, { type: string; scheme?: string }> }
      paths: Record<string, Record<string, { security?: Record<string, string[]>[]; description?: string }>>
    }
    const schemes = doc.components.securitySchemes
    t.match(schemes.clientSecretBasic, { type: 'http', scheme: 'basic' })
    t.ok(schemes.clientSecretPost)
    t.match(schemes.privateKeyJwt, { type: 'apiKey', name: 'client_assertion' })
    t.match(schemes.bearer, { type: 'http', scheme: 'bearer' })
    t.match(schemes.dpop, { type: 'http', scheme: 'DPoP' })
    t.equal(schemes.oauth2?.type, 'oauth2')
    const names = (path: string, method: string) => (doc.paths[path]?.[method]?.security ?? []).flatMap(Object.keys)
    t.same(
      names('/oauth/token', 'post'),
      ['clientSecretBasic', 'clientSecretPost', 'privateKeyJwt'],
      'token: basic, post, private_key_jwt or none',
    )
    t.same(names('/oauth/introspect', 'post'), ['clientSecretBasic', 'clientSecretPost', 'privateKeyJwt'])
    t.same(names('/oauth/revoke', 'post'), ['clientSecretBasic', 'clientSecretPost', 'privateKeyJwt'])
    t.same(names('/userinfo', 'get'), ['bearer', 'dpop'])
    t.same(names('/session', 'get'), ['bearer', 'dpop'])
    t.match(doc.paths['/metrics']?.get?.description, /METRICS_TOKEN/)
    const metrics = await app.inject({ url: '/metrics' })
    t.match(metrics.headers['content-type'], /^text\/plain/)
    t.match(metrics.body, /^# HELP /m, 'still the plain exposition format')
  },
)

t.test('every public route is in the OpenAPI document, with request and response schemas', async (t) => {
  const res = await app.inject({ url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as { openapi: string; paths: Record<string, Record<string, Operation>> }
  t.match(doc.openapi, /^3\./)
  const expected: [string, string][] = [
    ['/.well-known/oauth-authorization-server', 'get'],
    ['/.well-known/openid-configuration', 'get'],
    ['/.well-known/jwks.json', 'get'],
    ['/oauth/token', 'post'],
    ['/oauth/revoke', 'post'],
    ['/oauth/introspect', 'post'],
    ['/oauth/authorize', 'get'],
    ['/userinfo', 'get'],
    ['/session/login', 'post'],
    ['/session/refresh', 'post'],
    ['/session/logout', 'post'],
    ['/session', 'get'],
    ['/healthz', 'get'],
    ['/readyz', 'get'],
  ]
  for (const [path, method] of expected) {
    const op = doc.paths[path]?.[method]
    t.ok(op, `${method.toUpperCase()} ${path} is documented`)
    t.ok(Object.keys(op?.responses ?? {}).length > 0, `${method.toUpperCase()} ${path} has responses`)
  }
  const token = doc.paths['/oauth/token']?.post
  t.ok(token?.requestBody?.content['application/x-www-form-urlencoded'], 'the token request is a form')
  t.ok(token?.responses?.['200'], 'the token response')
  t.ok(token?.responses?.['4XX'], 'OAuth error responses')
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      t.ok(
        Object.keys(op.responses ?? {}).some((c) => c !== 'default'),
        `${method} ${path}: a response schema`,
      )
    }
  }
  // Requests with a body (the others carry only a cookie or a bearer token).
  for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect', '/oauth/authorize', '/session/login']) {
    t.ok(doc.paths[path]?.post?.requestBody, `POST ${path}: a request body schema`)
  }
  const authorize = doc.paths['/oauth/authorize']?.get
  t.ok(
    authorize?.parameters?.some((p) => p.name === 'code_challenge' && p.in === 'query'),
    'authorize documents its query parameters',
  )
})

t.test('/docs renders Swagger UI', async (t) => {
  const res = await app.inject({ url: '/docs/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, /swagger/i)
})
