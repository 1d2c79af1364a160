// RFC 9728 protected-resource metadata: the document, where it lives, and `resource_metadata` in challenges.
import Fastify from 'fastify'
import t from 'tap'
import {
  bearerChallenge,
  challenges,
  createVerifier,
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidTokenError,
  MissingTokenError,
  tollgate,
} from '../src/index.js'
import {
  protectedResourceMetadata,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
  serveProtectedResourceMetadata,
} from '../src/service/index.js'
import { AUDIENCE, ISSUER, JWKS_URI, jwksServer, makeKey } from './helpers.js'

t.test('the well-known URL goes between the host and the resource path (RFC 9728 §3.1)', async (t) => {
  t.equal(
    protectedResourceMetadataUrl('https://api.example'),
    'https://api.example/.well-known/oauth-protected-resource',
  )
  t.equal(
    protectedResourceMetadataUrl('https://api.example/'),
    'https://api.example/.well-known/oauth-protected-resource',
  )
  t.equal(
    protectedResourceMetadataUrl('https://api.example:8443/v1/notes'),
    'https://api.example:8443/.well-known/oauth-protected-resource/v1/notes',
  )
  t.equal(protectedResourceMetadataPath('https://api.example/v1/'), '/.well-known/oauth-protected-resource/v1')
  for (const notUrl of ['orders-api', 'urn:example:orders', 'https://api.example/?q=1', 'https://api.example/#x']) {
    t.equal(protectedResourceMetadataUrl(notUrl), undefined, `${notUrl}: no metadata URL`)
  }
})

t.test('the document names the issuer, the scopes, header-only bearer tokens and DPoP where taken', async (t) => {
  t.same(
    protectedResourceMetadata({
      resource: 'https://api.example',
      authorizationServers: ['https://auth.example'],
      scopes: ['notes:write', 'notes:read', 'notes:read'],
      dpopAlgorithms: ['ES256', 'EdDSA'],
      name: 'Notes',
    }),
    {
      resource: 'https://api.example',
      authorization_servers: ['https://auth.example'],
      scopes_supported: ['notes:read', 'notes:write'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      dpop_bound_access_tokens_required: false,
      resource_name: 'Notes',
    },
  )
  const bare = protectedResourceMetadata({ resource: 'https://api.example', authorizationServers: ['https://a'] })
  t.notOk('dpop_signing_alg_values_supported' in bare, 'no DPoP members without DPoP')
  t.notOk('scopes_supported' in bare, 'no empty scope list')
  t.equal(
    protectedResourceMetadata({
      resource: 'https://api.example',
      authorizationServers: [],
      dpopAlgorithms: ['ES256'],
      dpopRequired: true,
    }).dpop_bound_access_tokens_required,
    true,
  )
  t.throws(() => protectedResourceMetadata({ resource: 'orders', authorizationServers: [] }), TypeError)
})

t.test('served at its well-known path, cacheable, as JSON', async (t) => {
  const app = Fastify()
  const metadata = protectedResourceMetadata({ resource: 'https://api.example/v1', authorizationServers: [ISSUER] })
  serveProtectedResourceMetadata(app, metadata)
  const res = await app.inject({ url: '/.well-known/oauth-protected-resource/v1' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.match(res.headers['cache-control'], /max-age=/)
  t.same(res.json(), metadata)
  t.equal((await app.inject({ url: '/.well-known/oauth-protected-resource' })).statusCode, 404)
})

t.test('challenges name the metadata after the realm, in either scheme', async (t) => {
  const options = { resourceMetadata: 'https://api.example/.well-known/oauth-protected-resource' }
  const rm = `resource_metadata="${options.resourceMetadata}"`
  t.equal(bearerChallenge(new MissingTokenError(), 'api', options), `Bearer realm="api", ${rm}`)
  t.equal(
    bearerChallenge(new InsufficientScopeError(['a']), 'api', options),
    `Bearer realm="api", ${rm}, error="insufficient_scope", error_description="requires scope a", scope="a"`,
  )
  t.same(
    challenges(new InvalidTokenError('ERR_TOKEN_EXPIRED', 'token has expired'), 'api', ['ES256'], 'Bearer', options),
    [
      `Bearer realm="api", ${rm}, error="invalid_token", error_description="token has expired"`,
      `DPoP realm="api", ${rm}, algs="ES256"`,
    ],
  )
  t.same(challenges(new InvalidDpopProofError('bad proof'), 'api', ['ES256'], 'DPoP', options), [
    `DPoP realm="api", ${rm}, error="invalid_dpop_proof", error_description="bad proof", algs="ES256"`,
  ])
  t.same(challenges(new MissingTokenError(), 'api', [], 'Bearer'), ['Bearer realm="api"'], 'unchanged without it')
})

t.test('the Fastify plugin puts resource_metadata in its challenges', async (t) => {
  const key = await makeKey('k1')
  const server = jwksServer([key.jwk])
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: JWKS_URI, fetch: server.fetch })
  const app = Fastify()
  const url = protectedResourceMetadataUrl(AUDIENCE) as string
  await app.register(tollgate, { verifier, audience: AUDIENCE, resourceMetadata: url })
  app.get('/me', { onRequest: app.authenticate }, async () => ({}))
  const res = await app.inject({ url: '/me' })
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate']?.[0], `resource_metadata="${url}"`)
})
