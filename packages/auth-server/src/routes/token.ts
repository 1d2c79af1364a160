// POST /oauth/token: authenticates the client and dispatches to the grant named by grant_type.

import { withSpan } from '@tollgate/shared'
import { echo } from '@tollgate/shared/service'
import type { FastifyContextConfig, FastifyPluginAsync } from 'fastify'

import { authenticateClient } from '../clients/authenticate.js'
import type { ServerContext } from '../context.js'
import { OAuthError, UnauthorizedClient, UnsupportedGrantType } from '../errors.js'
import { grants } from '../grants/index.js'
import { type FormBody, required } from '../params.js'
import { isFapi2 } from '../profile/fapi2.js'
import { clientSecurity, errorResponses } from './schemas.js'

const str = { type: 'string', maxLength: 4096 } as const
/** Parameters that may repeat (RFC 8707 `resource`); every other one is a single string. */
const REPEATABLE = new Set(['resource', 'audience'])

/** The form body: what every request may carry, plus each grant's own parameters, from the registry. */
function bodySchema() {
  const properties: Record<string, object> = {
    grant_type: { type: 'string', maxLength: 128, description: `one of ${[...grants.keys()].join(', ')}` },
    client_id: str,
    client_secret: str,
    client_assertion: {
      type: 'string',
      maxLength: 4096,
      description: 'a JWT (RFC 7523): private_key_jwt or a platform token',
    },
    client_assertion_type: str,
  }
  for (const grant of grants.values()) {
    for (const name of grant.parameters) {
      properties[name] = REPEATABLE.has(name) ? { type: 'array', items: str, maxItems: 16 } : str
    }
  }
  return { type: 'object', properties, maxProperties: 32 }
}

const schema = {
  summary: 'Token endpoint (RFC 6749 §3.2)',
  tags: ['oauth'],
  security: [...clientSecurity, {}],
  consumes: ['application/x-www-form-urlencoded'],
  body: bodySchema(),
  response: {
    200: {
      type: 'object',
      properties: {
        access_token: { type: 'string' },
        token_type: { type: 'string', enum: ['Bearer', 'DPoP'] },
        issued_token_type: { type: 'string' },
        expires_in: { type: 'integer' },
        scope: { type: 'string' },
        refresh_token: { type: 'string' },
        id_token: { type: 'string' },
      },
      required: ['access_token', 'token_type', 'expires_in', 'scope'],
    },
    ...errorResponses,
  },
} as const

export const tokenRoute: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const limit = ctx.config.tokenRateLimit
  const config: FastifyContextConfig = limit > 0 ? { rateLimit: { max: limit, timeWindow: 60_000 } } : {}
  app.post('/oauth/token', { schema, config }, async (request, reply) => {
    const body = (request.body ?? {}) as FormBody
    const grantType = required(body, 'grant_type')
    const { client } = await withSpan('tollgate.client_authentication', {}, () =>
      authenticateClient(ctx, request, body),
    )
    const grant = grants.get(grantType)
    if (!grant) throw new UnsupportedGrantType(`grant_type "${echo(grantType)}" is not supported`)
    if (!client.grantTypes.includes(grant.grantType)) {
      throw new UnauthorizedClient(`this client may not use the ${grant.grantType} grant`)
    }
    // A proof binds the tokens to its key; a client registered with dpop_bound_access_tokens gets none without one.
    const proof = await ctx.dpop.check(request, '/oauth/token')
    // FAPI 2.0 §5.3.2.1: every access token sender-constrained — here, DPoP-bound.
    if (!proof && (client.dpopBoundAccessTokens || isFapi2(ctx.config))) {
      throw new OAuthError('invalid_dpop_proof', 400, 'this client must send a DPoP proof')
    }
    const response = await withSpan(
      'tollgate.grant',
      { 'oauth.grant_type': grant.grantType, 'oauth.client_id': client.clientId, 'tollgate.dpop': proof !== undefined },
      () => grant.handler({ body, client, request, ctx, jkt: proof?.jkt }),
    )
    ctx.dpop.offerNonce(reply)
    ctx.metrics.tokensIssued.inc({ grant: grant.grantType, client_id: client.clientId })
    return reply.headers({ 'cache-control': 'no-store', pragma: 'no-cache' }).send(response)
  })
}
