// CORS: discovery documents for anyone; token, userinfo and session endpoints only for origins some client allows.
import { corsHook } from '@tollgate/shared/service'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Store } from '../store/types.js'

const ORIGIN_CACHE_MS = 5_000
const BROWSER_FACING = new Set(['/oauth/token', '/oauth/revoke', '/userinfo'])

const pathOf = (url: string) => {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}
const isSession = (path: string) => path === '/session' || path.startsWith('/session/')

async function corsPlugin(app: FastifyInstance, options: { store: Store }): Promise<void> {
  let cached: { origins: Set<string>; at: number } | undefined
  const allowedOrigins = async (): Promise<Set<string>> => {
    if (!cached || Date.now() - cached.at > ORIGIN_CACHE_MS) {
      const clients = await options.store.listClients()
      cached = { origins: new Set(clients.flatMap((c) => c.allowedOrigins)), at: Date.now() }
    }
    return cached.origins
  }

  app.addHook(
    'onRequest',
    corsHook({
      allowed: async (origin, request) => {
        const path = pathOf(request.url)
        if (path.startsWith('/.well-known/')) return '*'
        if (!isSession(path) && !BROWSER_FACING.has(path)) return false
        return (await allowedOrigins()).has(origin)
      },
      credentials: (request) => isSession(pathOf(request.url)),
      methods: ['GET', 'POST', 'DELETE'],
    }),
  )
  app.options('*', { schema: { hide: true } }, async (_request, reply) => reply.code(204).send())
}

export default fp(corsPlugin, { fastify: '5.x', name: 'tollgate-cors' })
