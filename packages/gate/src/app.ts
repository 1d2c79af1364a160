// buildGate: the gate as a Fastify instance, configured but not listening — /verify (nginx, Traefik, Caddy),
// /ext-authz/… (Envoy), health, readiness, metrics and RFC 9728 metadata.
import { METHODS } from 'node:http'
import {
  bearerErrorBody,
  dpopNonces,
  type ReplayGuard,
  redisReplayGuard,
  tracingState,
  withSpan,
} from '@tollgate/shared'
import {
  answerBody,
  frameworkErrors,
  METRICS_CHALLENGE,
  metricsAuthorized,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  type RequestView,
  requestErrorAnswer,
  serveProtectedResourceMetadata,
  tracedRequests,
} from '@tollgate/shared/service'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { type Logger, pino } from 'pino'
import type { GateConfig } from './config.js'
import { type Decision, decider, EXT_AUTHZ_PREFIX } from './decide.js'
import { GateMetrics } from './metrics.js'
import { VerifierSet } from './verifiers.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The gate's metrics (also served on METRICS_PORT when that is set). */
    readonly gateMetrics: GateMetrics
  }
}

export interface GateOptions {
  readonly config: GateConfig
  /** A pino logger, or false for none; by default JSON logs at config.logLevel. */
  readonly logger?: Logger | false
  /** The JWKS and events fetch (tests). */
  readonly fetch?: typeof fetch
  /** Where DPoP proof ids are remembered; by default Redis when REDIS_URL is set, else this process. */
  readonly replay?: ReplayGuard
  /** Clock in milliseconds (tests). */
  readonly now?: () => number
}

const VERBOSE = new Set(['debug', 'trace'])
/** Every method Node parses, CONNECT aside: Envoy sends the original method, whatever it was. */
const DECISION_METHODS = METHODS.filter((m) => m !== 'CONNECT')
const plainJson = () => (data: unknown) => JSON.stringify(data)
const plainText = () => (data: unknown) => String(data)
const isDecisionPath = (url: string) => url.startsWith('/verify') || url.startsWith(`${EXT_AUTHZ_PREFIX}/`)

/** Why Node could not even parse a request, in words. */
const UNREADABLE: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'the request headers are too large',
  HPE_URI_TOO_LONG: 'the request URL is too long',
  ERR_HTTP_REQUEST_TIMEOUT: 'the request took too long to arrive',
}

/** A request Node could not parse (a bad request line, headers over the limit): still a 401, never a 400 or 431. */
const unreadable = (description: string) =>
  Buffer.from(
    'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\nCache-Control: no-store\r\n' +
      `WWW-Authenticate: Bearer error="invalid_request", error_description="${description}"\r\n\r\n`,
  )

/** A 401 for a request to /verify or /ext-authz the framework refused before the gate saw it. */
function refuseMalformed(reply: FastifyReply, description: string): FastifyReply {
  return reply
    .code(401)
    .header(
      'www-authenticate',
      `Bearer error="invalid_request", error_description="${description.replace(/["\\]/g, '')}"`,
    )
    .header('cache-control', 'no-store')
    .send({ error: 'invalid_request', error_description: description })
}

async function redisClient(config: GateConfig, log: Logger): Promise<Redis | undefined> {
  if (config.redisUrl === undefined) return undefined
  // Loaded only when configured: most gates keep their proof ids in memory.
  const { Redis } = await import('ioredis')
  let lastWarning = 0
  const redis = new Redis(config.redisUrl, {
    // A proof is checked now or refused: no queue of commands waiting for a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    lazyConnect: false,
  })
  redis.on('error', (err: Error) => {
    if (Date.now() - lastWarning < 10_000) return
    lastWarning = Date.now()
    log.warn({ reason: err.message }, 'REDIS_URL: Redis is not reachable; DPoP proofs are refused until it is')
  })
  return redis
}

/**
 * @example
 * const app = await buildGate({ config: loadConfig() })
 * await app.listen({ port: config.port, host: config.host })
 */
export async function buildGate(options: GateOptions): Promise<FastifyInstance> {
  const { config } = options
  const log =
    options.logger === false
      ? pino({ level: 'silent' })
      : (options.logger ??
        pino({
          level: config.logLevel,
          redact: {
            paths: ['req.headers.authorization', 'req.headers.dpop', 'req.headers.cookie'],
            censor: '[redacted]',
          },
        }))
  const app = Fastify({
    ...(VERBOSE.has(log.level) ? { loggerInstance: log as FastifyBaseLogger } : { logger: false }),
    // nginx passes the client's headers on to the auth request: allow what it allows (4 × 8 KiB lines and more).
    http: { maxHeaderSize: 64 * 1024 },
    // A gate that is shutting down still answers what it can; a 503 would be a 500 at nginx.
    return503OnClosing: false,
    clientErrorHandler: (err, socket) => {
      const code = (err as NodeJS.ErrnoException).code ?? ''
      if (code === 'ECONNRESET' || socket.destroyed || !socket.writable) return
      socket.end(unreadable(UNREADABLE[code] ?? 'the gate could not read the request'))
    },
    frameworkErrors: (err, request, frameworkReply) => {
      const reply = frameworkReply as unknown as FastifyReply
      const view = request as unknown as RequestView
      if (!isDecisionPath(request.url)) return frameworkErrors(err, view, reply)
      return refuseMalformed(reply, requestErrorAnswer(err, view)?.description ?? 'the request URL is malformed')
    },
  })

  const metrics = new GateMetrics()
  app.decorate('gateMetrics', metrics)
  // A server span per request, continuing the proxy's traceparent; only when this process traces (OTEL_EXPORTER_OTLP_*).
  if (tracingState.enabled) await app.register(tracedRequests)
  const redis = await redisClient(config, log)
  const replay = options.replay ?? (redis ? redisReplayGuard(redis, { prefix: config.redisPrefix }) : undefined)
  const now = options.now
  const verifiers = new VerifierSet({
    audience: config.audience,
    verifier: {
      issuer: config.issuer,
      ...(config.jwksUri ? { jwksUri: config.jwksUri } : {}),
      jwks: { maxAgeMs: config.jwksMaxAgeMs, cooldownMs: config.jwksCooldownMs, timeoutMs: config.jwksTimeoutMs },
      dpop: config.dpop
        ? {
            ...(replay ? { replay } : {}),
            ...(config.dpopNonceRequired
              ? {
                  nonces: dpopNonces({
                    ...(config.dpopNonceKey ? { key: config.dpopNonceKey } : {}),
                    ...(now ? { now } : {}),
                  }),
                }
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
          log.warn({ reason: event.error?.message, keys: event.keys }, 'JWKS fetch failed; keeping the last good keys')
        }
      },
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(now ? { now } : {}),
    },
  })
  if (verifiers.revocation) metrics.followRevocations(verifiers.revocation)

  // RFC 9728 metadata (and `resource_metadata` in challenges) only when every request is for one audience.
  const oneAudience = config.policy.audiences.size === 1
  const resourceMetadata = oneAudience ? protectedResourceMetadataUrl(config.audience) : undefined
  const decide = decider({
    policy: config.policy,
    verifiers,
    trusted: config.trustProxy,
    ...(resourceMetadata ? { resourceMetadata } : {}),
    ...(redis ? { replayStoreDown: () => redis.status !== 'ready' } : {}),
    onUnexpected: (err) => log.error({ err }, 'unexpected error while deciding; refused'),
  })

  const answer = (reply: FastifyReply, decision: Decision, started: number): FastifyReply => {
    const seconds = (performance.now() - started) / 1000
    if (decision.status === 200) {
      metrics.decision('allowed', decision.reason, seconds)
      const { identity } = decision
      // Every identity header, empty when it does not apply: a proxy that copies them overwrites the client's own.
      // The hot path, so written straight to Node in one writeHead with a flat list (about a tenth of a decision's
      // CPU less than Fastify's header handling).
      const headers = [
        'cache-control',
        'no-store',
        'x-auth-subject',
        identity.subject,
        'x-auth-client-id',
        identity.clientId,
        'x-auth-scope',
        identity.scope,
        'x-auth-session',
        identity.session,
        'x-auth-actor',
        identity.actor,
        'content-length',
        '0',
      ]
      if (decision.nonce !== undefined) headers.push('dpop-nonce', decision.nonce)
      reply.hijack()
      reply.raw.writeHead(200, headers)
      reply.raw.end()
      return reply
    }
    metrics.decision(decision.status === 403 ? 'forbidden' : 'refused', decision.reason, seconds)
    if (decision.nonce !== undefined) reply.header('dpop-nonce', decision.nonce)
    return reply
      .code(decision.status)
      .header('cache-control', 'no-store')
      .header('www-authenticate', decision.challenges)
      .send(bearerErrorBody(decision.error))
  }

  const handler = (kind: 'verify' | 'ext-authz') => (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now()
    const original = {
      peer: request.socket.remoteAddress,
      method: request.method,
      url: request.url,
      headers: request.headers,
    }
    if (tracingState.enabled) {
      // A span for the decision, its outcome as attributes (never the token or the identity it names).
      return withSpan('tollgate.gate.decide', { 'tollgate.gate.kind': kind }, async (span) => {
        const decided = await decide(kind, original)
        span?.setAttributes({ 'tollgate.gate.status': decided.status, 'tollgate.gate.reason': decided.reason })
        return answer(reply, decided, started)
      })
    }
    const decision = decide(kind, original)
    if (decision instanceof Promise) return decision.then((d) => answer(reply, d, started))
    return answer(reply, decision, started)
  }

  // The body of the original request never matters (proxies send none; Envoy says Content-Length: 0).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume()
    done(null, undefined)
  })
  for (const method of DECISION_METHODS) if (!app.supportedMethods.includes(method)) app.addHttpMethod(method)
  app.setErrorHandler((err, request, reply) => {
    const answer = requestErrorAnswer(err, request as unknown as RequestView)
    if (answer === undefined) log.error({ err, reqId: request.id }, 'unhandled error')
    if (isDecisionPath(request.url)) return refuseMalformed(reply, answer?.description ?? 'the gate could not decide')
    if (answer) return reply.code(answer.status).header('cache-control', 'no-store').send(answerBody(answer))
    return reply.code(500).send({ error: 'server_error', error_description: 'internal error' })
  })
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', error_description: `no route for ${request.method} ${request.url.split('?')[0]}` }),
  )

  const decision = {
    response: {
      200: { description: 'Allowed: X-Auth-Subject, X-Auth-Client-Id, X-Auth-Scope, X-Auth-Session, X-Auth-Actor' },
      401: { description: 'Refused: WWW-Authenticate (RFC 6750, RFC 9449), DPoP-Nonce when one is needed' },
      403: { description: 'A scope is missing (insufficient_scope)' },
    },
  }
  app.route({
    method: DECISION_METHODS,
    url: '/verify',
    exposeHeadRoute: false,
    schema: { summary: 'Forward auth for nginx auth_request, Traefik ForwardAuth, Caddy forward_auth', ...decision },
    handler: handler('verify'),
  })
  app.route({
    method: DECISION_METHODS,
    url: `${EXT_AUTHZ_PREFIX}/*`,
    exposeHeadRoute: false,
    schema: { summary: 'Envoy HTTP ext_authz (path_prefix /ext-authz)', ...decision },
    handler: handler('ext-authz'),
  })

  const status = {
    type: 'object',
    properties: {
      status: { type: 'string' },
      keys: { type: 'string' },
      revocation: { type: 'string' },
      revocation_lag_seconds: { type: 'number' },
      replay_store: { type: 'string' },
    },
    required: ['status'],
  } as const
  app.get('/healthz', { schema: { response: { 200: status } }, serializerCompiler: plainJson }, async () => ({
    status: 'ok',
  }))
  app.get(
    '/readyz',
    { schema: { response: { 200: status, 503: status } }, serializerCompiler: plainJson },
    async (_request, reply) => {
      // Ready once the keys are loaded and the revocation backlog received (a token revoked while the gate was down
      // is refused from its first request on), and the replay store answers when there is one.
      if (!verifiers.keys.loaded) await verifiers.keys.refresh().catch(() => {})
      const keys = verifiers.keys.loaded
      const feed = verifiers.revocation
      const revocation = !feed
        ? 'off'
        : !feed.status.caughtUp
          ? 'catching up'
          : feed.status.lagSeconds > 0
            ? 'lagging'
            : 'current'
      const store = redis === undefined ? 'memory' : redis.status === 'ready' ? 'ok' : 'unreachable'
      const ready = keys && revocation !== 'catching up' && !feed?.lagging && store !== 'unreachable'
      return reply
        .code(ready ? 200 : 503)
        .header('cache-control', 'no-store')
        .send({
          status: ready ? 'ready' : 'not ready',
          keys: keys ? 'ok' : 'not loaded',
          revocation,
          ...(feed ? { revocation_lag_seconds: feed.status.lagSeconds } : {}),
          replay_store: store,
        })
    },
  )
  // /metrics: open, behind METRICS_TOKEN, or only on METRICS_PORT (main.ts serves it there).
  const access = config.metrics
  if (access.port === undefined) {
    app.get('/metrics', { serializerCompiler: plainText }, async (request, reply) => {
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
    })
  }
  if (resourceMetadata) {
    serveProtectedResourceMetadata(
      app,
      protectedResourceMetadata({
        resource: config.audience,
        authorizationServers: [config.issuer],
        scopes: config.policy.scopes,
        dpopAlgorithms: verifiers.dpopAlgorithms,
        dpopRequired: dpopEverywhere(config),
      }),
    )
  }
  app.addHook('onClose', async () => {
    if (redis === undefined) return
    // A client that is not connected may still hold a reconnect timer: disconnect() clears it, quit() would not.
    if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect())
    else redis.disconnect()
  })
  return app
}

/** Whether every request that needs a token needs a DPoP-bound one: a rule for all paths says so, and every rule. */
function dpopEverywhere(config: GateConfig): boolean {
  const { rules } = config.policy
  const root = rules.find((r) => r.segments.length === 0 && r.host === undefined && r.methods === undefined)
  return root !== undefined && rules.every((r) => r.requirement.public || r.requirement.dpop)
}
