// POST /oauth/introspect (RFC 7662): confidential clients ask whether a token is active; inactive is `{ active: false }` only.
import type { FastifyPluginAsync } from 'fastify'
import { authenticateClient } from '../clients/authenticate.js'
import type { ServerContext } from '../context.js'
import { InvalidClient } from '../errors.js'
import { type FormBody, required } from '../params.js'
import { hashRefreshToken, parseRefreshToken } from '../tokens/refresh-token.js'
import { clientSecurity, errorResponses, tokenRequestBody } from './schemas.js'

const schema = {
  summary: 'Token introspection (RFC 7662)',
  tags: ['oauth'],
  security: [...clientSecurity],
  consumes: ['application/x-www-form-urlencoded'],
  body: tokenRequestBody,
  response: {
    200: {
      type: 'object',
      properties: {
        active: { type: 'boolean' },
        scope: { type: 'string' },
        client_id: { type: 'string' },
        sub: { type: 'string' },
        aud: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
        iss: { type: 'string' },
        exp: { type: 'integer' },
        iat: { type: 'integer' },
        jti: { type: 'string' },
        auth_time: { type: 'integer' },
        token_type: { type: 'string' },
        cnf: { type: 'object', properties: { jkt: { type: 'string' } } },
      },
      required: ['active'],
    },
    ...errorResponses,
  },
} as const

const INACTIVE = { active: false } as const

export const introspectRoute: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.post('/oauth/introspect', { schema }, async (request, reply) => {
    const body = (request.body ?? {}) as FormBody
    const { client } = await authenticateClient(ctx, request, body)
    if (client.public) throw new InvalidClient('introspection requires a confidential client')
    const token = required(body, 'token')
    reply.header('cache-control', 'no-store')

    const refresh = parseRefreshToken(token)
    if (refresh) {
      const info = await ctx.store.inspectRefresh(refresh.sub, refresh.fid, hashRefreshToken(token))
      // A refresh token is only described to the client it was issued to.
      if (!info || info.clientId !== client.clientId) return INACTIVE
      return {
        active: true,
        token_type: 'refresh_token',
        client_id: info.clientId,
        sub: refresh.sub,
        scope: info.scope.join(' '),
        aud: info.audience.length === 1 ? info.audience[0] : info.audience,
        iss: ctx.config.issuer,
        iat: Math.floor(info.createdAt / 1000),
        exp: Math.floor(info.expiresAt / 1000),
      }
    }

    const claims = await ctx.accessTokens.claimsOf(token)
    if (!claims) return INACTIVE
    return {
      active: true,
      // RFC 9449 §6.2: a bound token says so, with its confirmation.
      token_type: claims.cnf ? 'DPoP' : 'Bearer',
      ...(claims.cnf ? { cnf: { jkt: claims.cnf.jkt } } : {}),
      scope: claims.scope,
      client_id: claims.client_id,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      ...(claims.auth_time === undefined ? {} : { auth_time: claims.auth_time }),
    }
  })
}
