// POST /oauth/revoke (RFC 7009): a refresh token ends its whole session; an access token's jti is denied until it expires.
import type { FastifyPluginAsync } from 'fastify'
import { clientActor, requestContext } from '../audit/event.js'
import { authenticateClient } from '../clients/authenticate.js'
import type { ServerContext } from '../context.js'
import { UnauthorizedClient } from '../errors.js'
import { type FormBody, required } from '../params.js'
import { hashRefreshToken, parseRefreshToken } from '../tokens/refresh-token.js'
import { clientSecurity, errorResponses, tokenRequestBody } from './schemas.js'

const schema = {
  summary: 'Token revocation (RFC 7009)',
  tags: ['oauth'],
  security: [...clientSecurity, {}],
  consumes: ['application/x-www-form-urlencoded'],
  body: tokenRequestBody,
  response: { 200: { type: 'null', description: 'revoked, or the token was unknown' }, ...errorResponses },
} as const

export const revokeRoute: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.post('/oauth/revoke', { schema }, async (request, reply) => {
    const body = (request.body ?? {}) as FormBody
    const { client } = await authenticateClient(ctx, request, body)
    const token = required(body, 'token')
    reply.header('cache-control', 'no-store')
    const by = requestContext(request, clientActor(client.clientId))

    const refresh = parseRefreshToken(token)
    if (refresh) {
      const info = await ctx.store.inspectRefresh(refresh.sub, refresh.fid, hashRefreshToken(token))
      if (info) {
        if (info.clientId !== client.clientId) throw new UnauthorizedClient('the token was issued to another client')
        await ctx.revoker.endSession(refresh.sub, refresh.fid, 'revoked', by)
        ctx.metrics.revocations.inc({ token_type: 'refresh_token' })
      }
      return reply.code(200).send()
    }

    const claims = await ctx.accessTokens.claimsOf(token, { checkRevoked: false })
    if (claims && claims.exp * 1000 > ctx.now()) {
      if (claims.client_id !== client.clientId) throw new UnauthorizedClient('the token was issued to another client')
      await ctx.revoker.revokeAccessToken(claims.jti, claims.sub, claims.exp, by)
      ctx.metrics.revocations.inc({ token_type: 'access_token' })
    }
    // Unknown, malformed or already expired tokens: nothing to do, and RFC 7009 says answer 200.
    return reply.code(200).send()
  })
}
