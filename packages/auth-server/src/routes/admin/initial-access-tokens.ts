// /admin/v1/initial-access-tokens: issue (the token shown once), list and withdraw the tokens that let a deployment
// pipeline register clients (RFC 7591, REGISTRATION=token).
import type { FastifyPluginAsync } from 'fastify'
import type { ServerContext } from '../../context.js'
import { NotFound } from '../../errors.js'
import {
  createInitialAccessToken,
  DEFAULT_EXPIRES_IN,
  initialAccessTokenJson,
  MAX_EXPIRES_IN,
  MAX_USES,
  type NewInitialAccessToken,
} from '../../registration/initial-access-tokens.js'
import { adminCaller } from './auth.js'
import { documentedBody, errorResponses, initialAccessTokenSchema, pageOf } from './schemas.js'

const tags = ['admin: clients']
const security: Record<string, string[]>[] = [{ bearer: [] }, { dpop: [] }]

export const initialAccessTokenRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.post(
    '/initial-access-tokens',
    {
      ...documentedBody,
      schema: {
        summary: 'Issue an initial access token for client registration (shown once)',
        tags,
        security,
        body: {
          type: ['object', 'null'],
          properties: {
            expires_in: {
              type: 'integer',
              description: `seconds; default ${DEFAULT_EXPIRES_IN}, at most ${MAX_EXPIRES_IN}`,
            },
            max_uses: { type: 'integer', description: `registrations it may make; default 1, at most ${MAX_USES}` },
            description: { type: 'string', maxLength: 200 },
          },
        },
        response: { 201: initialAccessTokenSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const admin = await adminCaller(ctx, request, 'clients')
      const { token, record } = await createInitialAccessToken(
        ctx,
        (request.body ?? {}) as NewInitialAccessToken,
        admin.by,
      )
      return reply.code(201).send({ token, ...initialAccessTokenJson(record) })
    },
  )

  app.get(
    '/initial-access-tokens',
    {
      schema: {
        summary: 'Live initial access tokens, newest first (never the tokens)',
        tags,
        security,
        response: { 200: pageOf(initialAccessTokenSchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      await adminCaller(ctx, request, 'clients')
      const tokens = await ctx.store.listInitialAccessTokens(ctx.now())
      return reply.send({ items: tokens.map(initialAccessTokenJson), next_cursor: null })
    },
  )

  app.delete(
    '/initial-access-tokens/:id',
    {
      schema: {
        summary: 'Withdraw an initial access token',
        tags,
        security,
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const admin = await adminCaller(ctx, request, 'clients')
      const { id } = request.params as { id: string }
      const removed = await ctx.audit.change(
        'initial_access_token.revoked',
        admin.by,
        { target: { type: 'initial_access_token', id } },
        async (audit) => {
          if (!(await ctx.store.removeInitialAccessToken(id, { audit })))
            throw new NotFound('no such initial access token')
        },
      )
      return reply.code(204).send(removed)
    },
  )
}
