// GET/POST /userinfo (OIDC Core §5.3): the user's claims, as the token's scopes allow.
import formbody from '@fastify/formbody'
import { InvalidTokenError } from '@tollgate/shared'
import type { FastifyPluginAsync } from 'fastify'
import type { ServerContext } from '../context.js'
import { parseForm } from '../params.js'
import { userClaims } from '../tokens/signer.js'
import { BearerError, bearerClaims } from './bearer-auth.js'
import { errorResponses } from './schemas.js'

const schema = {
  summary: 'OIDC userinfo',
  tags: ['oidc'],
  security: [{ bearer: [] }, { dpop: [] }],
  response: {
    200: {
      type: 'object',
      properties: {
        sub: { type: 'string' },
        name: { type: 'string' },
        preferred_username: { type: 'string' },
        picture: { type: 'string' },
        email: { type: 'string' },
        email_verified: { type: 'boolean' },
      },
      required: ['sub'],
    },
    ...errorResponses,
  },
} as const

export const userinfoRoute: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  // POST may carry a form body (OIDC Core §5.3.1); the token is only read from the Authorization header.
  await app.register(formbody, { bodyLimit: 4096, parser: parseForm })
  const handler = async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const claims = await bearerClaims(ctx, request, { user: true, scope: 'openid' })
    const user = await ctx.store.getUser(claims.sub)
    if (!user || user.disabled) {
      throw new BearerError(new InvalidTokenError('ERR_TOKEN_CLAIM', 'the user no longer exists'), ctx.config.issuer)
    }
    return reply
      .header('cache-control', 'no-store')
      .send({ sub: user.sub, ...userClaims(user, claims.scope.split(' ')) })
  }
  app.get('/userinfo', { schema }, handler)
  app.post('/userinfo', { schema }, handler)
}
