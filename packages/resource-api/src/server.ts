// Entry point of the resource API: configuration, then listen; graceful shutdown on SIGTERM/SIGINT.

import { serveMetrics, startTracing } from '@tollgate/shared/service'
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type ResourceConfig } from './config.js'

let config: ResourceConfig
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`resource-api: invalid configuration: ${err.message}\n`)
    process.exit(1)
  }
  throw err
}

const log = pino({
  level: config.logLevel,
  redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
})
const tracing = config.tracing ? await startTracing({ serviceName: 'tollgate-resource-api' }) : undefined
const app = await buildApp({ config, logger: log })
/** The separate metrics listener (METRICS_PORT), closed with the server. */
let closeMetrics: (() => Promise<void>) | undefined
closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err) log.error({ err }, 'shutting down after an error')
  await app.close()
  await closeMetrics?.()
  await tracing?.shutdown()
})
await app.listen({ port: config.port, host: config.host }).catch((err: NodeJS.ErrnoException) => {
  const variable = process.env.TOLLGATE_PORT_VARIABLE ?? 'PORT'
  const reason =
    err.code === 'EADDRINUSE'
      ? `${variable}=${config.port}: the port is already in use (set ${variable} to another port)`
      : `cannot listen on ${config.host}:${config.port}: ${err.message}`
  process.stderr.write(`resource-api: ${reason}\n`)
  process.exit(1)
})

const { metrics } = config
if (metrics.port !== undefined) {
  const render = async () => ({
    contentType: app.apiMetrics.registry.contentType,
    body: await app.apiMetrics.registry.metrics(),
  })
  try {
    const server = await serveMetrics({ ...metrics, port: metrics.port }, render)
    closeMetrics = () => new Promise((resolve) => server.close(() => resolve()))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    process.stderr.write(
      `resource-api: METRICS_PORT=${metrics.port}: ${code === 'EADDRINUSE' ? 'the port is already in use (set METRICS_PORT to another port)' : (err as Error).message}\n`,
    )
    process.exit(1)
  }
}
