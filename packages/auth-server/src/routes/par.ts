// POST /oauth/par (RFC 9126): a client pushes its authorization request over the back channel and gets a request_uri,
// which is all the browser then carries to /oauth/authorize.
import type { FastifyPluginAsync } from 'fastify'
import { pushAuthorizationRequest } from '../authorize/par.js'
import { authenticateClient } from '../clients/authenticate.js'
import type { ServerContext } from '../context.js'
import { OAuthError } from '../errors.js'
import type { FormBody } from '../params.js'
import { clientSecurity, errorResponses } from './schemas.js'

const str = { type: 'string', maxLength: 4096 } as const

const schema = {
  summary: 'Pushed authorization request (RFC 9126)',
  description:
    'The parameters of an authorization request, plus client authentication as at the token endpoint. Validated as ' +
    '/oauth/authorize would; the answer names a request_uri usable once, within expires_in seconds.',
  tags: ['oauth'],
  security: [...clientSecurity, {}],
  consumes: ['application/x-www-form-urlencoded'],
  body: {
    type: 'object',
    properties: {
      response_type: str,
      client_id: str,
      client_secret: str,
      client_assertion: str,
      client_assertion_type: str,
      redirect_uri: str,
      scope: str,
      state: str,
      nonce: str,
      code_challenge: str,
      code_challenge_method: str,
      dpop_jkt: str,
      resource: { type: 'array', items: str, maxItems: 16 },
    },
    maxProperties: 32,
  },
  response: {
    201: {
      type: 'object',
      properties: { request_uri: { type: 'string' }, expires_in: { type: 'integer' } },
      required: ['request_uri', 'expires_in'],
    },
    ...errorResponses,
  },
} as const

export const parRoute: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.post('/oauth/par', { schema }, async (request, reply) => {
    const body = (request.body ?? {}) as FormBody
    const { client } = await authenticateClient(ctx, request, body)
    // RFC 9449 §10.1: a DPoP proof at the push binds the code to its key, as dpop_jkt would (they must agree).
    const proof = await ctx.dpop.check(request, '/oauth/par')
    let params = body
    if (proof) {
      if (body.dpop_jkt !== undefined && body.dpop_jkt !== proof.jkt) {
        throw new OAuthError('invalid_dpop_proof', 400, 'dpop_jkt is not the thumbprint of the DPoP proof’s key')
      }
      params = { ...body, dpop_jkt: proof.jkt }
    }
    const pushed = await pushAuthorizationRequest(ctx, client, params)
    ctx.dpop.offerNonce(reply)
    return reply.code(201).headers({ 'cache-control': 'no-store' }).send(pushed)
  })
}
