// Per-route latency without response listeners: a timestamp at onRequest, an observation at onSend.
//
// An onResponse hook makes Fastify attach 'finish'/'error' listeners to every response; with request logging off,
// that and the logger were a third of a small route's CPU. onSend sees the reply just before it is written, which
// is what a latency histogram of the server's own work wants.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'

const started = Symbol('tollgate.startedAt')

type Timed = FastifyRequest & { [started]?: number }

/**
 * Calls `observe(method, route, status, seconds)` for every request to a route declared after this call.
 *
 * @example
 * routeLatency(app, (method, route, status, seconds) => histogram.labels({ method, route, status }).observe(seconds))
 */
export function routeLatency(
  app: FastifyInstance,
  observe: (method: string, route: string, status: number, seconds: number) => void,
): void {
  app.addHook('onRoute', (route) => {
    const method = [route.method].flat().join(',')
    const url = route.url
    const stamp = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      ;(request as Timed)[started] = performance.now()
      done()
    }
    const record = (
      request: FastifyRequest,
      reply: FastifyReply,
      payload: unknown,
      done: (err: null, payload: unknown) => void,
    ) => {
      const at = (request as Timed)[started]
      if (at !== undefined) observe(method, url, reply.statusCode, (performance.now() - at) / 1000)
      done(null, payload)
    }
    route.onRequest = [stamp, ...[route.onRequest ?? []].flat()] as typeof route.onRequest
    route.onSend = [...[route.onSend ?? []].flat(), record] as typeof route.onSend
  })
}
