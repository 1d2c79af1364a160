// buildApp: the auth server as a Fastify instance that is configured but not listening.
import { randomUUID } from 'node:crypto'
import cookie from '@fastify/cookie'
import { DPOP_ALGORITHMS, tracingState } from '@tollgate/shared'
import { clientErrorHandler, frameworkErrors, routeLatency, tracedRequests } from '@tollgate/shared/service'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { AuditLog } from './audit/log.js'
import { assertionPolicy } from './clients/assertion.js'
import { AssertionKeys } from './clients/assertion-keys.js'
import { ClientCache } from './clients/cache.js'
import { consoleClient } from './clients/console-client.js'
import { FederatedClients } from './clients/federation.js'
import { ClientOrigins } from './clients/origins.js'
import { SecretHasher } from './clients/secrets.js'
import type { TrustedIssuer } from './clients/trusted-issuers.js'

import type { Config } from './config.js'
import type { ServerContext } from './context.js'
import { DpopProofs } from './dpop/proofs.js'
import { InvalidClient, StoreUnavailableError } from './errors.js'
import type { AuthHooks } from './events.js'
import type { Keystore } from './keys/keystore.js'
import { loggerOptions } from './logger.js'
import { AuthMetrics } from './metrics.js'
import corsPlugin from './plugins/cors.js'
import errorHandler from './plugins/error-handler.js'
import { lazyCompilersFactory } from './plugins/lazy-compilers.js'
import { openapi } from './plugins/openapi.js'
import securityHeaders from './plugins/security-headers.js'
import { FAPI2_ALGORITHMS, isFapi2 } from './profile/fapi2.js'
import { accessTokenAlgorithms, type Resource } from './resources.js'
import { Revoker } from './revocation/revoker.js'
import { adminRoutes } from './routes/admin/index.js'
import { authorizeRoutes } from './routes/authorize.js'
import { consoleRoutes } from './routes/console.js'
import { deviceRoutes } from './routes/device.js'
import { healthRoutes } from './routes/health.js'
import { jwksRoute } from './routes/jwks.js'
import { logoutRoutes } from './routes/logout.js'
import { metadataRoutes } from './routes/metadata.js'
import { metricsRoute } from './routes/metrics.js'
import { oauthEndpoints } from './routes/oauth-endpoints.js'
import { registrationRoutes } from './routes/registration.js'
import { revocationEventsRoute } from './routes/revocation-events.js'
import { oauthError } from './routes/schemas.js'
import { browserSessionRoutes } from './routes/session/browser.js'
import { manageSessionRoutes } from './routes/session/manage.js'
import { userinfoRoute } from './routes/userinfo.js'
import { BruteForceGuard } from './security/brute-force.js'
import { Seals } from './security/seals.js'
import type { Store } from './store/types.js'
import { TokenSigner } from './tokens/signer.js'
import { AccessTokens } from './tokens/verify-access.js'

export interface AppOptions {
  readonly config: Config
  readonly store: Store
  readonly keystore: Keystore
  /** HMAC key for client secrets (see loadSecretKey). */
  readonly secretKey: Buffer
  readonly now?: () => number
  /** Security-event hooks (e.g. react to refresh-token reuse). */
  readonly hooks?: AuthHooks
  /** The bootstrap file's resources: each audience's access-token algorithm (else ACCESS_TOKEN_SIGNING_ALG). */
  readonly resources?: readonly Resource[]
  /** The bootstrap file's trusted issuers: platforms whose tokens authenticate the clients mapped to them. */
  readonly trustedIssuers?: readonly TrustedIssuer[]
  /** Fastify logger option; defaults to JSON logs at config.logLevel. */
  readonly logger?: FastifyInstance['log'] | boolean
  /** The console's built files (packages/console/dist); default: `console/` beside the server's own build. */
  readonly consoleDir?: string
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/
const VERBOSE = new Set(['info', 'debug', 'trace'])

/**
 * Builds the auth server. The caller owns `store` and `keystore` and starts
 * listening; tests use `app.inject()`.
 *
 * @example
 * const app = await buildApp({ config, store, keystore, secretKey })
 * await app.listen({ port: config.port, host: config.host })
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, store, keystore } = options
  const now = options.now ?? Date.now
  const log: FastifyBaseLogger =
    options.logger === false
      ? (pino({ level: 'silent' }) as FastifyBaseLogger)
      : options.logger === undefined || options.logger === true
        ? (pino(loggerOptions(config.logLevel) as object) as FastifyBaseLogger)
        : options.logger
  // Fastify logs every request (a child logger and response listeners each) only when that is wanted; at warn and
  // above our own lines carry the request id instead.
  const app = Fastify({
    ...(VERBOSE.has(log.level) ? { loggerInstance: log } : { logger: false }),
    trustProxy: config.trustProxy as boolean | string,
    bodyLimit: 64 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    schemaController: { compilersFactory: lazyCompilersFactory() as never },
    // A URL that cannot be decoded, malformed HTTP: answered by the one error handler, in the OAuth format.
    frameworkErrors: frameworkErrors as never,
    clientErrorHandler,
  })

  const metrics = new AuthMetrics({ clientLabels: config.metricsClientLabels })
  const hooks = options.hooks ?? {}
  const audit = new AuditLog({
    store,
    retentionMs: config.auditRetention * 1000,
    now,
    log,
    ...(hooks.onAuditEvent ? { onEvent: hooks.onAuditEvent } : {}),
  })
  const ctx: ServerContext = {
    config,
    log,
    store,
    keystore,
    secrets: new SecretHasher(options.secretKey),
    clientValidation: {
      profile: config.profile,
      signingAlgs: config.signingAlgs,
      trustedIssuers: new Set((options.trustedIssuers ?? []).map((i) => i.issuer)),
    },
    assertions: {
      // Key caches follow real time: a test's frozen clock must not stop them refetching.
      keys: new AssertionKeys({ trustedIssuers: options.trustedIssuers ?? [] }),
      federation: new FederatedClients(store, now),
      store,
      now,
      policy: assertionPolicy(config),
    },
    signer: new TokenSigner(keystore, {
      issuer: config.issuer,
      accessTokenTtl: config.accessTokenTtl,
      now,
      accessTokenAlgorithm: accessTokenAlgorithms(options.resources ?? [], config.accessTokenSigningAlg),
    }),
    accessTokens: new AccessTokens({ issuer: config.issuer, keystore, store, now }),
    revoker: new Revoker({ store, accessTokenTtl: config.accessTokenTtl, now, log, audit }),
    audit,
    dpop: new DpopProofs({
      store,
      baseUrl: config.baseUrl,
      requireNonce: config.dpopNonceRequired,
      secretKey: options.secretKey,
      now,
      // FAPI 2.0 §5.4: PS256, ES256, EdDSA only.
      ...(isFapi2(config)
        ? { algorithms: DPOP_ALGORITHMS.filter((a) => (FAPI2_ALGORITHMS as readonly string[]).includes(a)) }
        : {}),
    }),
    seals: new Seals(options.secretKey, now),
    metrics,
    clients: new ClientCache(store, now, config.console ? [consoleClient(config.baseUrl, config.issuer)] : []),
    origins: new ClientOrigins(store),
    guard: new BruteForceGuard(store, config.login, now, metrics),
    hooks,
    lifecycle: { draining: false },
    now,
  }
  app.decorate('ctx', ctx)
  app.addSchema(oauthError)
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  app.addHook('onError', async (_request, _reply, err) => {
    if (err instanceof StoreUnavailableError) ctx.metrics.storeErrors.inc()
    else if (err instanceof InvalidClient) ctx.metrics.clientAuthFailures.inc()
  })
  routeLatency(app, ctx.metrics.observeRequest)

  // A server span per request, continuing the caller's trace; only when this process traces (OTEL_EXPORTER_OTLP_*).
  if (tracingState.enabled) await app.register(tracedRequests)
  await app.register(errorHandler, { log })
  await app.register(securityHeaders, { https: config.issuer.startsWith('https:') })
  await app.register(cookie)
  await app.register(corsPlugin, { origins: ctx.origins })
  openapi(app, { issuer: config.issuer, version: '0.1.0' })

  await app.register(metadataRoutes, { ctx })
  await app.register(jwksRoute, { ctx })
  await app.register(healthRoutes, { ctx })
  await app.register(metricsRoute, { metrics: ctx.metrics, access: config.metrics })
  await app.register(oauthEndpoints, { ctx })
  await app.register(authorizeRoutes, { ctx })
  await app.register(deviceRoutes, { ctx })
  await app.register(logoutRoutes, { ctx })
  await app.register(userinfoRoute, { ctx })
  await app.register(revocationEventsRoute, { ctx })
  await app.register(browserSessionRoutes, { ctx })
  await app.register(manageSessionRoutes, { ctx })
  if (config.registration !== 'off') await app.register(registrationRoutes, { ctx })
  await app.register(adminRoutes, { ctx })
  if (config.console)
    await app.register(consoleRoutes, { ctx, ...(options.consoleDir ? { dir: options.consoleDir } : {}) })
  return app
}
