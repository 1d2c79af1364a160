// The admin API under /admin/v1 (SPEC "Administration over HTTP"): clients, users, sessions, keys, initial access
// tokens and audit events, for administrators' access tokens. JSON, never cached, described in /docs.
import type { FastifyPluginAsync } from 'fastify'
import type { ServerContext } from '../../context.js'
import { auditEventRoutes } from './audit-events.js'
import { adminClientRoutes } from './clients.js'
import { initialAccessTokenRoutes } from './initial-access-tokens.js'
import { keyRoutes } from './keys.js'
import { adminError } from './reply.js'
import { sessionRoutes } from './sessions.js'
import { adminUserRoutes } from './users.js'

export const adminRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  // RFC 7396 merge patches are JSON.
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  )
  app.setErrorHandler((err) => {
    throw adminError(err)
  })
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
  })
  for (const routes of [
    adminClientRoutes,
    adminUserRoutes,
    sessionRoutes,
    keyRoutes,
    initialAccessTokenRoutes,
    auditEventRoutes,
  ]) {
    await app.register(routes, { ctx, prefix: '/admin/v1' })
  }
}
