// The resource API's OpenAPI document and Swagger UI, generated from its route schemas.
import { createVerifier } from '@tollgate/shared'
import t from 'tap'
import { AUDIENCE, ISSUER, JWKS_URI, jwksServer, makeKey } from '../../shared/test/helpers.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const key = await makeKey('k1')
const jwks = jwksServer([key.jwk])
const config = { ...loadConfig({ ISSUER, AUDIENCE }), jwksUri: JWKS_URI }
const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: jwks.fetch })
const app = await buildApp({ config, verifier, logger: false })
t.teardown(() => app.close())

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>
  requestBody?: { content: Record<string, { schema?: { required?: string[] } }> }
  security?: unknown[]
}

t.test('/docs/json documents every route with request and response schemas', async (t) => {
  const res = await app.inject({ url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as { paths: Record<string, Record<string, Operation>>; components: Record<string, unknown> }
  t.same(Object.keys(doc.paths).sort(), [
    '/.well-known/oauth-protected-resource',
    '/healthz',
    '/metrics',
    '/readyz',
    '/v1/me',
    '/v1/notes',
  ])
  t.same(Object.keys(doc.paths['/v1/notes'] ?? {}).sort(), ['get', 'post'])
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      t.ok(op.responses?.['200'] ?? op.responses?.['201'], `${method} ${path}: a success response schema`)
    }
  }
  const post = doc.paths['/v1/notes']?.post
  t.same(post?.requestBody?.content['application/json']?.schema?.required, ['text'])
  for (const code of ['201', '401', '403']) t.ok(post?.responses?.[code], `POST /v1/notes documents ${code}`)
  t.ok(doc.paths['/v1/me']?.get?.security, 'protected routes name the bearer scheme')
  t.match(doc.components, { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } })
})

t.test('/docs renders Swagger UI', async (t) => {
  const res = await app.inject({ url: '/docs/' })
  t.equal(res.statusCode, 200)
  t.match(res.body, /swagger/i)
})
