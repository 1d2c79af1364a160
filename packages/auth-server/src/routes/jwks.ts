// GET /.well-known/jwks.json: the public halves of every published signing key, of every algorithm of SIGNING_ALGS.
import type { FastifyPluginAsync } from 'fastify'
import type { ServerContext } from '../context.js'

/**
 * How long verifiers may cache the JWKS. A rotated key is published well
 * before it signs (KEY_PUBLISH_DELAY), so caches this old still know it.
 */
export const JWKS_MAX_AGE = 300

export const jwksRoute: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        summary: 'JSON Web Key Set (RFC 7517)',
        tags: ['discovery'],
        response: {
          200: {
            type: 'object',
            properties: {
              keys: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    kty: { type: 'string' },
                    kid: { type: 'string' },
                    use: { type: 'string' },
                    alg: { type: 'string', enum: ['RS256', 'ES256', 'EdDSA'] },
                    n: { type: 'string', description: 'RSA' },
                    e: { type: 'string', description: 'RSA' },
                    crv: { type: 'string', enum: ['P-256', 'Ed25519'], description: 'EC and OKP' },
                    x: { type: 'string', description: 'EC and OKP' },
                    y: { type: 'string', description: 'EC' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (_request, reply) =>
      reply
        .type('application/jwk-set+json')
        .header('cache-control', `public, max-age=${JWKS_MAX_AGE}`)
        .serializer((body: string) => body)
        .send(ctx.keystore.jwksBody()),
  )
}
