// /admin/v1/keys: the signing keys with their state (pending, active, verifying, retired), and a staged rotation.
import type { FastifyPluginAsync } from 'fastify'
import { KEY_ALGS, keyJson, rotateKeys } from '../../admin/keys.js'
import type { ServerContext } from '../../context.js'
import { adminCaller } from './auth.js'
import { errorResponses, keySchema, pageOf } from './schemas.js'

const tags = ['admin: keys']
const security: Record<string, string[]>[] = [{ bearer: [] }, { dpop: [] }]

export const keyRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.get(
    '/keys',
    {
      schema: {
        summary: 'Signing keys, oldest first, with their state',
        tags,
        security,
        response: { 200: pageOf(keySchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      await adminCaller(ctx, request, 'keys')
      // Keys another instance or the CLI added since the last periodic reload count too.
      await ctx.keystore.reload()
      return reply.send({ items: ctx.keystore.list().map(keyJson), next_cursor: null })
    },
  )

  app.post(
    '/keys/rotate',
    {
      schema: {
        summary:
          'Add a key of `alg` (one of SIGNING_ALGS; the key itself is answered) or, without `alg`, one of every ' +
          'algorithm (answered as a list): published now, signing after KEY_PUBLISH_DELAY, on every instance',
        tags,
        security,
        body: {
          type: ['object', 'null'],
          properties: { alg: { type: 'string', enum: [...KEY_ALGS] } },
          additionalProperties: false,
        },
        response: {
          201: { anyOf: [keySchema, { type: 'object', properties: { items: { type: 'array', items: keySchema } } }] },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const admin = await adminCaller(ctx, request, 'keys')
      const { alg } = (request.body ?? {}) as { alg?: string }
      const keys = await rotateKeys(ctx.keystore, ctx.config.signingAlgs, ctx.audit, admin.by, alg)
      return reply.code(201).send(alg === undefined ? { items: keys.map(keyJson) } : keyJson(keys[0] as never))
    },
  )
}
