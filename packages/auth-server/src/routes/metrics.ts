// GET /metrics: Prometheus text exposition of this instance's metrics.
import type { FastifyPluginAsync } from 'fastify'
import type { AuthMetrics } from '../metrics.js'

export const metricsRoute: FastifyPluginAsync<{ metrics: AuthMetrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        description:
          'Unauthenticated: keep it off the public internet. Counters and histograms of this instance: tokens issued, ' +
          'refresh outcomes, reuse detections, login and client-auth failures, store outages, latency by route. ' +
          'See docs/operating.md for what to alert on.',
        tags: ['health'],
        produces: ['text/plain'],
        response: { 200: { type: 'string', description: 'Prometheus text format 0.0.4' } },
      },
    },
    async (_request, reply) => {
      const { contentType, body } = await metrics.render()
      return reply.type(contentType).header('cache-control', 'no-store').send(body)
    },
  )
}
