// Entry point: reads configuration, opens keys and store, applies the bootstrap file, listens; shuts down gracefully.

import { serveMetrics, startTracing } from '@tollgate/shared/service'
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { buildApp } from './app.js'
import { type BootstrapDocument, loadBootstrapFile, missingBootstrapRecords, seedDemo } from './bootstrap.js'
import { SecretHasher } from './clients/secrets.js'
import type { TrustedIssuer } from './clients/trusted-issuers.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { Keystore } from './keys/keystore.js'
import { loadSecretKey } from './keys/secret-key.js'
import { loggerOptions } from './logger.js'
import type { Resource } from './resources.js'
import { openStore } from './store/index.js'
import { watchStore } from './store/watch.js'
import { ID_TOKEN_TTL } from './tokens/signer.js'

/** A superseded key stays published as long as any token it signed can live: ID tokens (1 h) or access tokens, plus skew. */
function retireAfterMs(config: Config): number {
  return (Math.max(config.accessTokenTtl, ID_TOKEN_TTL) + 60) * 1000
}

function fail(message: string): never {
  process.stderr.write(`tollgate: ${message}\n`)
  process.exit(1)
}

function demoBanner(config: Config, demo: Awaited<ReturnType<typeof seedDemo>>, where: string | undefined): string {
  const token = `${config.baseUrl}/oauth/token`
  return [
    '',
    where
      ? `  Tollgate demo mode: the demo clients and user were written into ${where} (their credentials are new at every start):`
      : '  Tollgate demo mode (in-memory store, nothing is persisted). Demo credentials, valid until restart:',
    `    service client  ${demo.service.clientId} / ${demo.service.clientSecret}`,
    '                    confidential; client_credentials only (service-to-service tokens)',
    `    web client      ${demo.web.clientId}`,
    `                    public; password, refresh_token and authorization_code (PKCE), for the demo web app at ${config.demoWebOrigin}`,
    `    user            ${demo.user.username} / ${demo.user.password}   (sign in at ${config.demoWebOrigin})`,
    '  Get a service token:',
    `    curl -s -u ${demo.service.clientId}:${demo.service.clientSecret} -d grant_type=client_credentials ${token}`,
    '  Sign in as the user (a public client: no secret, client_id in the form):',
    `    curl -s -d grant_type=password -d client_id=${demo.web.clientId} -d username=${demo.user.username} -d password=${demo.user.password} ${token}`,
    `  API docs ${config.baseUrl}/docs · metrics ${config.baseUrl}/metrics · discovery ${config.baseUrl}/.well-known/openid-configuration`,
    '',
  ].join('\n')
}

/** How the operator named the Redis to use (credentials left out). */
function redisSetting(config: Config): string {
  if (config.redisClusterNodes) {
    return `REDIS_CLUSTER_NODES (${config.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(',')})`
  }
  try {
    const url = new URL(config.redisUrl as string)
    return `REDIS_URL (${url.protocol}//${url.host})`
  } catch {
    return 'REDIS_URL'
  }
}

/** The bootstrap records that still carry the shipped example secrets (`deploy/bootstrap.example.json`). */
function exampleSecretsIn(doc: BootstrapDocument | undefined): string[] {
  const example = (value: unknown) => typeof value === 'string' && /^change-me/i.test(value)
  return [
    ...(doc?.clients ?? []).filter((c) => example(c.client_secret)).map((c) => `client ${c.client_id}`),
    ...(doc?.users ?? [])
      .filter((u) => example((u as { password?: string }).password))
      .map((u) => `user ${u.username}`),
  ]
}

async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) fail(`invalid configuration: ${err.message}`)
    throw err
  }
  // Start loading the Redis client now, so it overlaps with reading keys instead of following it.
  if (config.redisUrl || config.redisClusterNodes) import('./store/redis/redis-store.js').catch(() => {})
  const log = pino(loggerOptions(config.logLevel) as object)

  const keystore = await Keystore.open({
    dir: config.keysDir,
    algorithms: config.signingAlgs,
    log,
    publishDelayMs: config.keyPublishDelay * 1000,
    retireAfterMs: retireAfterMs(config),
    reloadIntervalMs: config.keysReloadInterval * 1000,
    rotationIntervalMs: config.keyRotationInterval * 1000,
  }).catch((err: Error) => fail(err.message))
  const secretKey = await loadSecretKey(config.keysDir, config.clientSecretKey).catch((err: Error) => fail(err.message))
  const store = await openStore(config, {
    log,
    // A Redis that reconnects with an evicting policy would delete data from now on: stop, as at startup.
    onMisconfigured: (err) => fail(err.message),
  }).catch((err: Error) => fail(`${redisSetting(config)}: ${err.message}`))
  const hasher = new SecretHasher(secretKey)

  if (store.kind === 'memory') {
    log.warn('REDIS_URL is not set: using the in-memory store; sessions, users and clients are lost on restart')
  }
  let bootstrap: BootstrapDocument | undefined
  let resources: readonly Resource[] = []
  let trustedIssuers: readonly TrustedIssuer[] = []
  const applyBootstrapFile = async (file: string) => {
    const applied = await loadBootstrapFile(file, store, hasher, Date.now(), config)
    bootstrap = applied.doc
    resources = applied.resources
    trustedIssuers = applied.trustedIssuers
    log.info(
      {
        clients: applied.clients,
        users: applied.users,
        resources: resources.length,
        trusted_issuers: trustedIssuers.length,
      },
      'bootstrap file applied',
    )
  }
  if (config.bootstrapFile) {
    await applyBootstrapFile(config.bootstrapFile).catch((err: Error) => fail(`BOOTSTRAP_FILE ${err.message}`))
    const examples = exampleSecretsIn(bootstrap)
    if (examples.length > 0) {
      log.warn(
        { records: examples },
        'the bootstrap file uses example secrets: replace them before anyone else can reach this server',
      )
      process.stderr.write(
        `\n  WARNING: ${config.bootstrapFile} still has its example secrets (${examples.join(', ')}).\n  Anyone who has read the example can sign in. Replace them before this server is reachable by others.\n\n`,
      )
    }
  }
  // From here on, a missing marker means the store lost its data under us.
  await store.ensureMarker().catch((err: Error) => fail(err.message))

  const tracing = config.tracing ? await startTracing({ serviceName: 'tollgate-auth-server' }) : undefined
  const app = await buildApp({ config, store, keystore, secretKey, resources, trustedIssuers, logger: log })
  const watch =
    store.kind === 'memory'
      ? undefined
      : watchStore({
          store,
          log,
          missing: async () => (bootstrap ? missingBootstrapRecords(bootstrap, store) : []),
          ...(config.bootstrapFile
            ? {
                heal: async () => {
                  await applyBootstrapFile(config.bootstrapFile as string)
                  app.ctx.clients.invalidate()
                  app.ctx.assertions.federation.invalidate()
                },
              }
            : {}),
        })

  // After a lost connection, nothing is served until the reconnected Redis is known to hold its data (or healed).
  if (watch) store.holdAfterReconnect?.(async () => void (await watch.verify()))

  /** The separate metrics listener (METRICS_PORT), closed with the server. */
  let closeMetrics: (() => Promise<void>) | undefined
  closeWithGrace({ delay: 10_000 + config.shutdownDelay * 1000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down')
    // Readiness fails first, so a load balancer stops routing here; in-flight requests then drain.
    app.ctx.lifecycle.draining = true
    watch?.stop()
    if (config.shutdownDelay > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelay * 1000))
    await app.close()
    await closeMetrics?.()
    await tracing?.shutdown()
    keystore.close()
    await store.close()
  })

  const seed =
    config.demoSeed === 'on' || (config.demoSeed === 'auto' && store.kind === 'memory' && !config.bootstrapFile)
  const demo = seed
    ? await seedDemo(store, hasher, Date.now(), { audience: config.demoAudience, webOrigin: config.demoWebOrigin })
    : undefined
  await app.listen({ port: config.port, host: config.host }).catch((err: NodeJS.ErrnoException) => {
    const variable = process.env.TOLLGATE_PORT_VARIABLE ?? 'PORT'
    if (err.code === 'EADDRINUSE')
      fail(`${variable}=${config.port}: the port is already in use (set ${variable} to another port)`)
    if (err.code === 'EACCES') fail(`${variable}=${config.port}: not allowed to listen there (use a port above 1023)`)
    fail(`cannot listen on ${config.host}:${config.port}: ${err.message}`)
  })
  // Off the cold-start path: metrics recorded until now were queued.
  app.ctx.metrics.load().catch((err: Error) => log.error({ err }, 'metrics unavailable'))
  const { metrics } = config
  if (metrics.port !== undefined) {
    const metricsServer = await serveMetrics({ ...metrics, port: metrics.port }, () => app.ctx.metrics.render()).catch(
      (err: NodeJS.ErrnoException) =>
        fail(
          err.code === 'EADDRINUSE'
            ? `METRICS_PORT=${metrics.port}: the port is already in use (set METRICS_PORT to another port)`
            : `METRICS_PORT=${metrics.port}: cannot listen on ${metrics.host}: ${err.message}`,
        ),
    )
    closeMetrics = () => new Promise((resolve) => metricsServer.close(() => resolve()))
  }
  if (demo) {
    const banner = demoBanner(config, demo, store.kind === 'memory' ? undefined : redisSetting(config))
    process.stdout.write(
      config.bannerFormat === 'json' ? `${JSON.stringify({ tollgate_banner: banner })}\n` : `${banner}\n`,
    )
  }
}

await main()
