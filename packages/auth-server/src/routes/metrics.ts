// GET /metrics: Prometheus text exposition of this instance's metrics — open, behind METRICS_TOKEN, or not here at all
// when METRICS_PORT serves it on its own listener (server.ts).
import { METRICS_CHALLENGE, type MetricsAccess, metricsAuthorized } from '@tollgate/shared/service'
import type { FastifyPluginAsync } from 'fastify'
import type { AuthMetrics } from '../metrics.js'

export const metricsRoute: FastifyPluginAsync<{ metrics: AuthMetrics; access: MetricsAccess }> = async (
  app,
  { metrics, access },
) => {
  if (access.port !== undefined) return
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        description:
          'Open unless METRICS_TOKEN is set (then `Authorization: Bearer <token>`); with METRICS_PORT it is served ' +
          'on that port only. Counters and histograms of this instance: tokens issued, refresh outcomes, reuse ' +
          'detections, login and client-auth failures, store outages, latency by route; no client identifiers unless ' +
          'METRICS_CLIENT_LABELS is on. See docs/operating.md for what to alert on.',
        tags: ['health'],
        produces: ['text/plain'],
        ...(access.token ? { security: [{ metricsToken: [] }] } : {}),
        response: {
          200: { type: 'string', description: 'Prometheus text format 0.0.4' },
          401: { type: 'object', properties: { error_description: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      if (!metricsAuthorized(request.headers.authorization, access.token)) {
        return reply.code(METRICS_CHALLENGE.status).headers(METRICS_CHALLENGE.headers).send(METRICS_CHALLENGE.body)
      }
      const { contentType, body } = await metrics.render()
      return reply.type(contentType).header('cache-control', 'no-store').send(body)
    },
  )
}
