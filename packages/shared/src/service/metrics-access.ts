// Who may read a service's /metrics: anyone who reaches it (the default, for a private network), only a scraper with
// METRICS_TOKEN, or only on a separate listen address (METRICS_PORT) that the public port does not serve at all.
import { timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { ConfigError } from '../errors.js'
import { type Env, integer, text } from './env.js'

export interface MetricsAccess {
  /** A bearer token the scraper must send (`Authorization: Bearer …`); undefined: none needed. */
  readonly token: string | undefined
  /** Serve /metrics only on this port (and {@link host}); undefined: on the service's own port. */
  readonly port: number | undefined
  readonly host: string
}

/**
 * Reads METRICS_TOKEN (at least 16 characters), METRICS_PORT and METRICS_HOST (default 127.0.0.1).
 *
 * @example
 * const metrics = metricsAccess(process.env) // { token: undefined, port: 9464, host: '127.0.0.1' }
 */
export function metricsAccess(env: Env): MetricsAccess {
  const token = text(env, 'METRICS_TOKEN')
  if (token !== undefined && (token.length < 16 || /\s/.test(token))) {
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters without spaces (try: openssl rand -hex 24)')
  }
  const port = text(env, 'METRICS_PORT') === undefined ? undefined : integer(env, 'METRICS_PORT', 0, 1, 65_535)
  return Object.freeze({ token, port, host: text(env, 'METRICS_HOST') ?? '127.0.0.1' })
}

/**
 * Whether an Authorization header carries the metrics token (constant time). Always true without a token.
 *
 * @example
 * if (!metricsAuthorized(request.headers.authorization, access.token)) return reply.code(401).send(…)
 */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true
  const expected = Buffer.from(`Bearer ${token}`)
  const given = Buffer.from(authorization ?? '')
  // Compared at the expected length either way, so the time does not say how much of it matched.
  const same = timingSafeEqual(given.length === expected.length ? given : Buffer.alloc(expected.length), expected)
  return same && given.length === expected.length
}

/** The answer to a scrape without the token: RFC 6750, a realm of its own. */
export const METRICS_CHALLENGE = {
  status: 401,
  headers: { 'www-authenticate': 'Bearer realm="metrics"', 'cache-control': 'no-store' },
  body: { error_description: 'this endpoint needs the metrics token (Authorization: Bearer <METRICS_TOKEN>)' },
} as const

/**
 * Serves `GET /metrics` alone on its own listener (METRICS_PORT), with the token check when one is set.
 *
 * @example
 * const server = await serveMetrics(access, () => registry.metrics().then((body) => ({ contentType, body })))
 */
export async function serveMetrics(
  access: MetricsAccess & { readonly port: number },
  render: () => Promise<{ contentType: string; body: string }>,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}')
      return
    }
    if (!metricsAuthorized(req.headers.authorization, access.token)) {
      res
        .writeHead(METRICS_CHALLENGE.status, { ...METRICS_CHALLENGE.headers, 'content-type': 'application/json' })
        .end(JSON.stringify(METRICS_CHALLENGE.body))
      return
    }
    render().then(
      ({ contentType, body }) =>
        res
          .writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' })
          .end(req.method === 'HEAD' ? '' : body),
      () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}'),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(access.port, access.host, () => resolve())
  })
  return server
}
