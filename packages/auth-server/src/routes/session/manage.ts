// GET /session, DELETE /session/:id, POST /session/logout-all: a user manages their sessions with an access token.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { requestContext, userActor } from '../../audit/event.js'
import type { ServerContext } from '../../context.js'
import { NotFound } from '../../errors.js'
import { cookieName, cookieOptions, decodeSessionCookie } from '../../sessions/cookie.js'
import { parseRefreshToken, sessionId } from '../../tokens/refresh-token.js'
import { bearerClaims } from '../bearer-auth.js'
import { errorResponses } from '../schemas.js'
import { allowClientOrigin, allowOrigin } from './origin.js'

const sessionItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    client_id: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    last_used_at: { type: 'string', format: 'date-time' },
    user_agent: { type: ['string', 'null'] },
    current: { type: 'boolean' },
  },
  required: ['id', 'client_id', 'created_at', 'last_used_at', 'user_agent', 'current'],
} as const

const security: Record<string, string[]>[] = [{ bearer: [] }, { dpop: [] }]

export const manageSessionRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  /** The caller's claims; the answer is readable (CORS) by the pages of the client the token was issued to. */
  const caller = async (request: FastifyRequest, reply: FastifyReply) => {
    let claims: Awaited<ReturnType<typeof bearerClaims>>
    try {
      claims = await bearerClaims(ctx, request, { user: true })
    } catch (err) {
      // A refused token names no client we trust: any client's page may read the refusal (it reveals nothing),
      // so it can refresh and retry.
      const { origin } = request.headers
      if (origin !== undefined && (await ctx.origins.has(origin))) allowOrigin(reply, origin)
      throw err
    }
    const client = await ctx.clients.get(claims.client_id)
    if (client) allowClientOrigin(request, reply, client)
    return claims
  }

  const secure = ctx.config.cookieSecure
  const name = cookieName(secure)
  const currentFid = (cookie: string | undefined): string | undefined => {
    const session = decodeSessionCookie(cookie)
    return session ? parseRefreshToken(session.token)?.fid : undefined
  }

  app.get(
    '/session',
    {
      schema: {
        summary: "The caller's live sessions",
        tags: ['session'],
        security,
        response: { 200: { type: 'array', items: sessionItem }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const claims = await caller(request, reply)
      const current = currentFid(request.cookies[name])
      const sessions = await ctx.store.listSessions(claims.sub, ctx.now())
      return reply.header('cache-control', 'no-store').send(
        sessions.map((s) => ({
          id: sessionId(s.fid),
          client_id: s.clientId,
          created_at: new Date(s.createdAt).toISOString(),
          last_used_at: new Date(s.lastUsedAt).toISOString(),
          user_agent: s.userAgent ?? null,
          // This browser's cookie session, or the session the calling token belongs to (a code-flow app's).
          current: s.fid === current || (current === undefined && sessionId(s.fid) === claims.sid),
        })),
      )
    },
  )

  app.delete(
    '/session/:id',
    {
      schema: {
        summary: "End one of the caller's sessions",
        tags: ['session'],
        security,
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const claims = await caller(request, reply)
      const { id } = request.params as { id: string }
      const by = requestContext(request, userActor(claims.sub, claims.client_id))
      const ended = await ctx.revoker.endSessionById(claims.sub, id, 'user', undefined, by)
      if (!ended) throw new NotFound('no such session')
      if (ended.session.fid === currentFid(request.cookies[name])) reply.clearCookie(name, cookieOptions(secure))
      return reply.code(204).header('cache-control', 'no-store').send()
    },
  )

  app.post(
    '/session/logout-all',
    {
      schema: {
        summary: "End all of the caller's sessions, password-grant sessions included",
        tags: ['session'],
        security,
        response: { 200: { type: 'object', properties: { ended: { type: 'integer' } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const claims = await caller(request, reply)
      const by = requestContext(request, userActor(claims.sub, claims.client_id))
      const ended = await ctx.revoker.endUserSessions(claims.sub, 'logout', by)
      reply.clearCookie(name, cookieOptions(secure))
      return reply.header('cache-control', 'no-store').send({ ended })
    },
  )
}
