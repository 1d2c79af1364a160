// GET /metrics: Prometheus text exposition of this instance's metrics.
import type { FastifyPluginAsync } from 'fastify'
import type { AuthMetrics } from '../metrics.js'

export const metricsRoute: FastifyPluginAsync<{ metrics: AuthMetrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['health'], hide: true } },
    async (_request, reply) => {
      const { contentType, body } = await metrics.render()
      return reply.type(contentType).header('cache-control', 'no-store').send(body)
    },
  )
}
