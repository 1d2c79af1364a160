// OpenAPI document generated from the route schemas, at /docs/json, rendered at /docs (built on first request).
import { lazyDocs } from '@tollgate/shared/service'
import type { FastifyInstance } from 'fastify'
import { oauthError } from '../routes/schemas.js'

export function openapi(app: FastifyInstance, options: { issuer: string; version: string }): void {
  lazyDocs(app, {
    schemas: [oauthError],
    openapi: {
      info: { title: 'Tollgate authorization server', version: options.version },
      servers: [{ url: options.issuer }],
      components: {
        securitySchemes: {
          clientBasic: { type: 'http', scheme: 'basic', description: 'client_secret_basic' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
    load: async () => ({
      fastify: (await import('fastify')).default as never,
      swagger: (await import('@fastify/swagger')).default,
      swaggerUi: (await import('@fastify/swagger-ui')).default,
    }),
  })
}
