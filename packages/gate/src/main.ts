// Runs the gate as a process: configuration from the environment, then listen; graceful shutdown on SIGTERM/SIGINT.
// `node dist/server.bundle.js`, `pnpm --filter @tollgate/gate start` and `tollgate gate` all come here.
import { serveMetrics, startTracing } from '@tollgate/shared/service'
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { buildGate } from './app.js'
import { ConfigError, type GateConfig, loadConfig } from './config.js'

/**
 * Starts the gate with the given environment; exits the process with one line on a configuration error or when
 * the port cannot be bound.
 *
 * @example
 * await runGate() // PORT=3003 ISSUER=https://auth.example AUDIENCE=https://orders.example
 */
export async function runGate(env: Readonly<Record<string, string | undefined>> = process.env): Promise<void> {
  let config: GateConfig
  try {
    config = loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gate: invalid configuration: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const log = pino({
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', 'req.headers.dpop', 'req.headers.cookie'], censor: '[redacted]' },
  })
  const tracing = config.tracing ? await startTracing({ serviceName: 'tollgate-gate' }) : undefined
  const app = await buildGate({ config, logger: log })
  /** The separate metrics listener (METRICS_PORT), closed with the gate. */
  let closeMetrics: (() => Promise<void>) | undefined
  closeWithGrace({ delay: 10_000 }, async ({ err }) => {
    if (err) log.error({ err }, 'shutting down after an error')
    await app.close()
    await closeMetrics?.()
    await tracing?.shutdown()
  })
  await app.listen({ port: config.port, host: config.host }).catch((err: NodeJS.ErrnoException) => {
    const reason =
      err.code === 'EADDRINUSE'
        ? `PORT=${config.port}: the port is already in use (set PORT to another port)`
        : `cannot listen on ${config.host}:${config.port}: ${err.message}`
    process.stderr.write(`gate: ${reason}\n`)
    process.exit(1)
  })
  const { metrics } = config
  if (metrics.port !== undefined) {
    const registry = app.gateMetrics.registry
    try {
      const server = await serveMetrics({ ...metrics, port: metrics.port }, async () => ({
        contentType: registry.contentType,
        body: await registry.metrics(),
      }))
      closeMetrics = () => new Promise((resolve) => server.close(() => resolve()))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      process.stderr.write(
        `gate: METRICS_PORT=${metrics.port}: ${code === 'EADDRINUSE' ? 'the port is already in use (set METRICS_PORT to another port)' : (err as Error).message}\n`,
      )
      process.exit(1)
    }
  }
  log.info(
    {
      url: `http://${config.host}:${config.port}`,
      issuer: config.issuer,
      audience: config.audience,
      policy: config.policySource,
      rules: config.policy.rules.length,
      trustProxy: config.trustProxySpec,
      replay: config.redisUrl ? 'redis' : 'memory',
    },
    'gate listening',
  )
}
