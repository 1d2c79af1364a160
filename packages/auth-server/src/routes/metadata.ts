// RFC 8414 / OIDC discovery metadata, served at both well-known paths.
import { DPOP_ALGORITHMS } from '@tollgate/shared'
import type { FastifyPluginAsync } from 'fastify'
import { ASSERTION_ALGORITHMS, assertionPolicy } from '../clients/assertion.js'
import type { Config } from '../config.js'
import type { ServerContext } from '../context.js'
import { grants } from '../grants/index.js'
import { FAPI2_ALGORITHMS, isFapi2 } from '../profile/fapi2.js'

/** The server's metadata document; `issuer` is exactly ISSUER. */
export function serverMetadata(config: Config): Record<string, unknown> {
  const document = baseMetadata(config)
  return isFapi2(config) ? { ...document, ...fapi2Metadata(config) } : document
}

/** What changes under PROFILE=fapi2 (FAPI 2.0 Security Profile): only what a conformant client may use. */
function fapi2Metadata(config: Config): Record<string, unknown> {
  const methods = ['private_key_jwt']
  const algorithms = assertionPolicy(config).algorithms
  return {
    token_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_methods_supported: methods,
    token_endpoint_auth_signing_alg_values_supported: [...algorithms],
    revocation_endpoint_auth_signing_alg_values_supported: [...algorithms],
    introspection_endpoint_auth_signing_alg_values_supported: [...algorithms],
    grant_types_supported: [...grants.keys()].filter((g) => g !== 'password'),
    require_pushed_authorization_requests: true,
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS.filter((a) =>
      (FAPI2_ALGORITHMS as readonly string[]).includes(a),
    ),
  }
}

function baseMetadata(config: Config): Record<string, unknown> {
  const base = config.baseUrl
  return {
    issuer: config.issuer,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    userinfo_endpoint: `${base}/userinfo`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'none',
    ],
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    introspection_endpoint: `${base}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    // Revocations as signed SETs (RFC 8417) that stateless verifiers follow; see docs/revocation-events.md.
    revocation_events_endpoint: `${base}/revocation-events`,
    revocation_events_signing_alg_values_supported: [config.accessTokenSigningAlg],
    // OpenID Connect RP-Initiated Logout 1.0.
    end_session_endpoint: `${base}/oauth/logout`,
    // RFC 7591 (REGISTRATION=token needs an initial access token from an administrator; off: not offered).
    ...(config.registration === 'off' ? {} : { registration_endpoint: `${base}/oauth/register` }),
    // RFC 9126 pushed authorization requests; REQUIRE_PAR makes them the only way in.
    pushed_authorization_request_endpoint: `${base}/oauth/par`,
    require_pushed_authorization_requests: config.requirePar,
    // RFC 8628 device authorization grant (CLIs, devices without a browser).
    device_authorization_endpoint: `${base}/oauth/device_authorization`,
    grant_types_supported: [...grants.keys()],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    scopes_supported: ['openid', 'profile', 'email'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    // private_key_jwt assertions and platform tokens (RFC 9864's Ed25519 name as well as EdDSA).
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    // RS256 first: the default for clients that registered no id_token_signed_response_alg (OIDC Core §2).
    id_token_signing_alg_values_supported: [...config.signingAlgs],
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
    subject_types_supported: ['public'],
    claims_supported: [
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'name',
      'picture',
      'preferred_username',
      'email',
      'email_verified',
    ],
  }
}

/** How long the registered clients' scopes are reused before `scopes_supported` is computed again. */
const SCOPES_REFRESH_MS = 30_000

export const metadataRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const base = serverMetadata(ctx.config)
  const fallback = JSON.stringify(base)
  let cached: { body: string; at: number } | undefined
  // scopes_supported: the OIDC scopes plus every scope a registered client may ask for.
  const body = async (): Promise<string> => {
    if (cached && ctx.now() - cached.at < SCOPES_REFRESH_MS) return cached.body
    try {
      const scopes = new Set(base.scopes_supported as string[])
      for (const scope of (await ctx.store.listClients()).flatMap((c) => c.scopes).sort()) scopes.add(scope)
      cached = { body: JSON.stringify({ ...base, scopes_supported: [...scopes] }), at: ctx.now() }
      return cached.body
    } catch {
      // The store is away: discovery still works, with what was known (or without the clients' scopes).
      return cached?.body ?? fallback
    }
  }
  const handler = async (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .type('application/json')
      .header('cache-control', 'public, max-age=300')
      .send(await body())
  const schema = { summary: 'Authorization server metadata', tags: ['discovery'] }
  app.get('/.well-known/oauth-authorization-server', { schema }, handler)
  app.get('/.well-known/openid-configuration', { schema }, handler)
}
