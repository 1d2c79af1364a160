// buildApp: the resource API as a Fastify instance, configured but not listening.
import { createVerifier, dpopNonces, tollgate, tracingState, type Verifier } from '@tollgate/shared'
import {
  answerBody,
  clientErrorHandler,
  corsHook,
  echo,
  frameworkErrors,
  lazyDocs,
  METRICS_CHALLENGE,
  metricsAuthorized,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  requestErrorAnswer,
  routeLatency,
  serveProtectedResourceMetadata,
  tracedRequests,
} from '@tollgate/shared/service'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'

import { type Logger, pino } from 'pino'
import type { ResourceConfig } from './config.js'
import { ApiMetrics } from './metrics.js'
import { NoteBook } from './notes.js'
import { NOTES_SCOPES, notesRoutes } from './routes/notes.js'

export interface ResourceAppOptions {
  readonly config: ResourceConfig
  /** A ready verifier (tests); by default one is created from the config. */
  readonly verifier?: Verifier
  /** A pino logger, or false for none; by default JSON logs at config.logLevel. */
  readonly logger?: Logger | false
}

const VERBOSE = new Set(['info', 'debug', 'trace'])

declare module 'fastify' {
  interface FastifyInstance {
    /** The API's metrics (also served on METRICS_PORT when that is set). */
    readonly apiMetrics: ApiMetrics
  }
}

const status = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    keys: { type: 'string' },
    revocation: { type: 'string', description: 'off, catching up, current, or lagging' },
    revocation_lag_seconds: { type: 'number' },
  },
  required: ['status'],
} as const
/** Probes and metrics answer fixed shapes: no schema compiler needed on their first (cold-start) request. */
const plainJson = () => (data: unknown) => JSON.stringify(data)
const plainText = () => (data: unknown) => String(data)

/**
 * @example
 * const app = await buildApp({ config: loadConfig() })
 * await app.listen({ port: 3001 })
 */
export async function buildApp(options: ResourceAppOptions): Promise<FastifyInstance> {
  const { config } = options
  const log =
    options.logger === false
      ? pino({ level: 'silent' })
      : (options.logger ??
        pino({
          level: config.logLevel,
          redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
        }))
  // Fastify logs each request (and creates a child logger and response listeners for it) only when that is wanted:
  // at warn and above our own log lines carry the request id instead.
  const app = Fastify({
    ...(VERBOSE.has(log.level) ? { loggerInstance: log as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 16 * 1024,
    // Fastify's own counter ids, or the caller's X-Request-Id: cheaper than a UUID per request.
    requestIdHeader: 'x-request-id',
    frameworkErrors: frameworkErrors as never,
    clientErrorHandler,
  })
  const metrics = new ApiMetrics()
  app.decorate('apiMetrics', metrics)
  // A server span per request, continuing the caller's trace; only when this process traces (OTEL_EXPORTER_OTLP_*).
  if (tracingState.enabled) await app.register(tracedRequests)
  const verifier =
    options.verifier ??
    createVerifier({
      issuer: config.issuer,
      audience: config.audience,
      ...(config.jwksUri ? { jwksUri: config.jwksUri } : {}),
      jwks: { maxAgeMs: config.jwksMaxAgeMs, cooldownMs: config.jwksCooldownMs, timeoutMs: config.jwksTimeoutMs },
      dpop: config.dpop
        ? {
            ...(config.dpopNonceRequired
              ? { nonces: dpopNonces(config.dpopNonceKey ? { key: config.dpopNonceKey } : {}) }
              : {}),
          }
        : false,
      ...(config.revocationEvents === 'off'
        ? {}
        : {
            revocation: {
              ...(config.revocationEvents instanceof URL ? { eventsUri: config.revocationEvents } : {}),
              ...(config.revocationMaxLag === undefined ? {} : { maxLagSec: config.revocationMaxLag }),
            },
          }),
      onJwksFetch: (event) => {
        metrics.jwksFetches.inc({ outcome: event.ok ? 'ok' : 'error' })
        if (!event.ok) {
          metrics.jwksFailures.inc()
          log.warn({ reason: event.error?.message, keys: event.keys }, 'JWKS fetch failed; keeping the last good keys')
        }
      },
    })

  if (verifier.revocation) metrics.followRevocations(verifier.revocation)

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = requestErrorAnswer(err, request)
    if (!answer) {
      log.error({ reqId: request.id, err }, 'unhandled error')
      return reply.code(500).send({ error: 'server_error', error_description: 'internal error' })
    }
    return reply.code(answer.status).header('cache-control', 'no-store').send(answerBody(answer))
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'not_found',
      error_description: `no route for ${echo(request.method, 16)} ${echo(request.url.split('?')[0], 100)}`,
    }),
  )

  if (config.corsOrigins.length > 0) {
    const origins = new Set(config.corsOrigins)
    app.addHook(
      'onRequest',
      corsHook({
        allowed: (origin) => origins.has(origin),
        headers: ['authorization', 'content-type', 'dpop'],
        exposeHeaders: ['dpop-nonce', 'www-authenticate'],
      }),
    )
    app.options('*', async (_request, reply) => reply.code(204).send())
  }
  lazyDocs(app, {
    openapi: {
      info: { title: 'Tollgate resource API', version: '0.1.0' },
      servers: [{ url: config.audience }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: `An access token from ${config.issuer} for audience ${config.audience}`,
          },
          dpop: {
            type: 'http',
            scheme: 'DPoP',
            description: 'A DPoP-bound access token with a DPoP proof header (RFC 9449)',
          },
        },
      },
    },
    load: async () => ({
      fastify: (await import('fastify')).default as never,
      swagger: (await import('@fastify/swagger')).default,
      swaggerUi: (await import('@fastify/swagger-ui')).default,
    }),
  })
  // RFC 9728: the audience is the resource identifier; when it is a URL, clients find the metadata under it.
  const resourceMetadata = protectedResourceMetadataUrl(config.audience)
  await app.register(tollgate, {
    verifier,
    audience: config.audience,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(resourceMetadata ? { resourceMetadata } : {}),
    onReject: (err) => metrics.tokensRefused.inc({ code: err.code }),
  })
  routeLatency(app, metrics.observeRequest)

  // /metrics: open, behind METRICS_TOKEN, or only on METRICS_PORT (server.ts serves it there).
  const access = config.metrics
  if (access.port === undefined) {
    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus metrics (text exposition format)',
          description: 'Open unless METRICS_TOKEN is set (then `Authorization: Bearer <token>`).',
          tags: ['health'],
          produces: ['text/plain'],
          response: { 200: { type: 'string' }, 401: { type: 'object', additionalProperties: true } },
        },
        serializerCompiler: plainText,
      },
      async (request, reply) => {
        if (!metricsAuthorized(request.headers.authorization, access.token)) {
          return reply
            .code(METRICS_CHALLENGE.status)
            .headers(METRICS_CHALLENGE.headers)
            .serializer(JSON.stringify)
            .type('application/json')
            .send(METRICS_CHALLENGE.body)
        }
        return reply
          .type(metrics.registry.contentType)
          .header('cache-control', 'no-store')
          .send(await metrics.registry.metrics())
      },
    )
  }

  app.get(
    '/healthz',
    { schema: { summary: 'Liveness', tags: ['health'], response: { 200: status } }, serializerCompiler: plainJson },
    async () => ({ status: 'ok' }),
  )
  const readiness = {
    summary: 'Readiness: the JWKS has been loaded',
    tags: ['health'],
    response: { 200: status, 503: status },
  }
  app.get('/readyz', { schema: readiness, serializerCompiler: plainJson }, async (_request, reply) => {
    // Keys are fetched lazily; readiness is the moment the first JWKS fetch succeeds — and, when revocation events
    // are followed, the backlog has arrived, so a token revoked while this service was down is refused from its
    // first request on.
    if (!verifier.keys.loaded) await verifier.keys.refresh().catch(() => {})
    const keys = verifier.keys.loaded
    const feed = verifier.revocation
    const revocation = !feed
      ? 'off'
      : !feed.status.caughtUp
        ? 'catching up'
        : feed.status.lagSeconds > 0
          ? 'lagging'
          : 'current'
    const ready = keys && revocation !== 'catching up' && !feed?.lagging
    return reply
      .code(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({
        status: ready ? 'ready' : 'not ready',
        keys: keys ? 'ok' : 'not loaded',
        revocation,
        ...(feed ? { revocation_lag_seconds: feed.status.lagSeconds } : {}),
      })
  })

  if (resourceMetadata) {
    serveProtectedResourceMetadata(
      app,
      protectedResourceMetadata({
        resource: config.audience,
        authorizationServers: [config.issuer],
        scopes: NOTES_SCOPES,
        dpopAlgorithms: verifier.dpopAlgorithms,
        name: 'Tollgate example resource API',
      }),
    )
  }
  await app.register(notesRoutes, { notes: new NoteBook() })
  return app
}
