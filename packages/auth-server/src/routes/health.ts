// GET /healthz (the process is alive) and GET /readyz (store reachable, a signing key loaded).
import type { FastifyPluginAsync } from 'fastify'
import type { ServerContext } from '../context.js'

const READY_TIMEOUT_MS = 1_000

const status = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    store: { type: 'string' },
    keys: { type: 'string' },
  },
} as const

/**
 * Probes answer a fixed, flat object: plain JSON.stringify serializes it, so the first probe after start does not wait
 * for fast-json-stringify to load and compile (the schema still documents the route).
 */
const plainJson = () => (data: unknown) => JSON.stringify(data)

async function storeReachable(ctx: ServerContext): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS)
  })
  try {
    return await Promise.race([
      ctx.store.ping().then(
        () => true,
        () => false,
      ),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

export const healthRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness', tags: ['health'], response: { 200: status } }, serializerCompiler: plainJson },
    async () => ({ status: 'ok' }),
  )

  app.get(
    '/readyz',
    {
      schema: { summary: 'Readiness', tags: ['health'], response: { 200: status, 503: status } },
      serializerCompiler: plainJson,
    },
    async (_request, reply) => {
      const store = await storeReachable(ctx)
      const keys = ctx.keystore.ready
      const draining = ctx.lifecycle.draining
      const ready = store && keys && !draining
      return reply
        .code(ready ? 200 : 503)
        .header('cache-control', 'no-store')
        .send({
          status: draining ? 'shutting down' : ready ? 'ready' : 'not ready',

          store: store ? 'ok' : 'unreachable',
          keys: keys ? 'ok' : 'missing',
        })
    },
  )
}
