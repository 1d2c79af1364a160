// Serves the demo web app's static files and its runtime configuration.
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import { ConfigError, type DemoConfig, loadConfig } from './config.js'

let config: DemoConfig
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`demo-web: invalid configuration: ${err.message}\n`)
    process.exit(1)
  }
  throw err
}

const app = Fastify({ logger: { level: config.logLevel } })
const root = fileURLToPath(new URL('../public/', import.meta.url))
const csp = [
  "default-src 'self'",
  `connect-src 'self' ${new URL(config.authUrl).origin} ${new URL(config.apiUrl).origin}`,
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ')

app.addHook('onSend', async (_request, reply) => {
  reply
    .header('content-security-policy', csp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
})
await app.register(fastifyStatic, { root, index: 'index.html' })
app.get('/config.json', async (_request, reply) =>
  reply.header('cache-control', 'no-store').send({
    authUrl: config.authUrl,
    apiUrl: config.apiUrl,
    clientId: config.clientId,
  }),
)
app.get('/callback', async (_request, reply) => reply.sendFile('callback.html'))
app.get('/healthz', async () => ({ status: 'ok' }))
app.get('/readyz', async () => ({ status: 'ready' }))

closeWithGrace({ delay: 5_000 }, async () => {
  await app.close()
})
await app.listen({ port: config.port, host: config.host })
process.stdout.write(`Demo web app: http://localhost:${config.port}\n`)
