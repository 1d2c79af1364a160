// /admin/v1/users/{sub}/sessions (list, end all), /admin/v1/sessions (every live session) and /admin/v1/sessions/{id}
// (end one): each end is published at once, so the session's access tokens are refused at every verifier within a
// second.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { endSessionById, endUserSessions, listLiveSessions, sessionJson } from '../../admin/sessions.js'
import type { ServerContext } from '../../context.js'
import { NotFound } from '../../errors.js'
import { adminCaller } from './auth.js'
import { page } from './reply.js'
import { errorResponses, pageOf, pageQuery, sessionSchema } from './schemas.js'

const tags = ['admin: sessions']
const security: Record<string, string[]>[] = [{ bearer: [] }, { dpop: [] }]
const userParams = {
  type: 'object',
  properties: { sub: { type: 'string', maxLength: 128 } },
  required: ['sub'],
} as const

export const sessionRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const caller = (request: FastifyRequest) => adminCaller(ctx, request, 'sessions')
  const user = async (request: FastifyRequest) => {
    const { sub } = request.params as { sub: string }
    const found = await ctx.store.getUser(sub)
    if (!found) throw new NotFound(`no user "${sub}"`)
    return found
  }

  app.get(
    '/users/:sub/sessions',
    {
      schema: {
        summary: 'A user’s live sessions, oldest first (never token material)',
        tags,
        security,
        params: userParams,
        response: { 200: pageOf(sessionSchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      await caller(request)
      const { sub } = await user(request)
      return page(reply, request, (await ctx.store.listSessions(sub, ctx.now())).map(sessionJson), undefined)
    },
  )

  app.delete(
    '/users/:sub/sessions',
    {
      schema: {
        summary: 'End every session of a user',
        tags,
        security,
        params: userParams,
        response: { 200: { type: 'object', properties: { ended: { type: 'integer' } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const admin = await caller(request)
      const { sub } = await user(request)
      return reply.send({ ended: await endUserSessions(ctx, sub, admin.by) })
    },
  )

  app.get(
    '/sessions',
    {
      schema: {
        summary:
          'Every live session, user by user (whole users per page; a page looks at 500 users at most and may come ' +
          'back short with a next_cursor: keep following it)',
        tags,
        security,
        querystring: pageQuery,
        response: {
          200: pageOf({
            ...sessionSchema,
            properties: { ...sessionSchema.properties, sub: { type: 'string' }, username: { type: 'string' } },
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      await caller(request)
      const { cursor, limit } = request.query as { cursor?: string; limit: number }
      const { items, next } = await listLiveSessions(ctx, cursor, limit)
      return page(reply, request, items, next)
    },
  )

  app.delete(
    '/sessions/:id',
    {
      schema: {
        summary: 'End one session, by its id (the `sid` of its tokens)',
        tags,
        security,
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const admin = await caller(request)
      const { id } = request.params as { id: string }
      if (!(await endSessionById(ctx, id, admin.by))) throw new NotFound('no live session with this id')
      return reply.code(204).send()
    },
  )
}
