// The resource API's RFC 9728 metadata and the `resource_metadata` its challenges point to.
import { createVerifier } from '@tollgate/shared'
import t from 'tap'
import { AUDIENCE, ISSUER, JWKS_URI, jwksServer, makeKey } from '../../shared/test/helpers.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const key = await makeKey('k1')
const jwks = jwksServer([key.jwk])
const appFor = async (env: Record<string, string>) => {
  const config = { ...loadConfig({ ISSUER, AUDIENCE, ...env }), jwksUri: JWKS_URI }
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: config.audience,
    jwksUri: JWKS_URI,
    fetch: jwks.fetch,
    ...(config.dpop ? {} : { dpop: false as const }),
  })
  return buildApp({ config, verifier, logger: false })
}

t.test('GET /.well-known/oauth-protected-resource describes the API (RFC 9728)', async (t) => {
  const app = await appFor({})
  const res = await app.inject({ url: '/.well-known/oauth-protected-resource' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    resource: AUDIENCE,
    authorization_servers: [ISSUER],
    scopes_supported: ['notes:read', 'notes:write'],
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'RS256', 'PS256'],
    dpop_bound_access_tokens_required: false,
    resource_name: 'Tollgate example resource API',
  })
})

t.test('every challenge names the metadata URL', async (t) => {
  const app = await appFor({})
  const res = await app.inject({ url: '/v1/me', headers: { authorization: 'Bearer not.a.token' } })
  t.equal(res.statusCode, 401)
  const challenges = [res.headers['www-authenticate']].flat()
  t.equal(challenges.length, 2)
  for (const challenge of challenges) {
    t.match(challenge, `resource_metadata="${AUDIENCE}/.well-known/oauth-protected-resource"`)
  }
})

t.test('without DPoP the document says nothing of it; a resource with a path is served under that path', async (t) => {
  const app = await appFor({ DPOP: 'off', AUDIENCE: 'https://api.test/notes' })
  const res = await app.inject({ url: '/.well-known/oauth-protected-resource/notes' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().resource, 'https://api.test/notes')
  t.notOk('dpop_signing_alg_values_supported' in res.json())
})

t.test('an audience that is not a URL has no metadata and no resource_metadata', async (t) => {
  const app = await appFor({ AUDIENCE: 'notes-api' })
  t.equal((await app.inject({ url: '/.well-known/oauth-protected-resource' })).statusCode, 404)
  const res = await app.inject({ url: '/v1/me' })
  t.notMatch(String(res.headers['www-authenticate']), 'resource_metadata')
})
