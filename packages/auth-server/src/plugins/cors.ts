// CORS: discovery documents for anyone; token, userinfo and revocation endpoints for origins some client allows;
// session endpoints, with credentials, only for the origins of the session's own client (decided by the route).
import { corsHook } from '@tollgate/shared/service'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ClientOrigins } from '../clients/origins.js'

const BROWSER_FACING = new Set(['/oauth/token', '/oauth/revoke', '/userinfo'])

const pathOf = (url: string) => {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}
const isSession = (path: string) => path === '/session' || path.startsWith('/session/')

async function corsPlugin(app: FastifyInstance, options: { origins: ClientOrigins }): Promise<void> {
  const { origins } = options
  app.addHook(
    'onRequest',
    corsHook({
      allowed: async (origin, request) => {
        const path = pathOf(request.url)
        // Public documents: metadata, keys, and the revocation feed (opaque identifiers only).
        if (path.startsWith('/.well-known/') || path === '/revocation-events') return '*'
        // An actual session request is answered for its own client's origins only, once the route knows the client
        // (routes/session/origin.ts); a preflight carries no client, and exposes nothing.
        if (isSession(path) && request.method !== 'OPTIONS') return false
        if (!isSession(path) && !BROWSER_FACING.has(path)) return false
        return origins.has(origin)
      },
      credentials: (request) => isSession(pathOf(request.url)),
      methods: ['GET', 'POST', 'DELETE'],
      headers: ['authorization', 'content-type', 'dpop'],
      exposeHeaders: ['dpop-nonce', 'www-authenticate'],
    }),
  )
  app.options('*', { schema: { hide: true } }, async (_request, reply) => reply.code(204).send())
}

export default fp(corsPlugin, { fastify: '5.x', name: 'tollgate-cors' })
