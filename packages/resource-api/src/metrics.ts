// Prometheus metrics of the resource API: JWKS fetches, refused tokens, latency.
import { LatencyHistogram, type LatencySeries } from '@tollgate/shared'
import { Counter, collectDefaultMetrics, Registry } from 'prom-client'

export class ApiMetrics {
  readonly registry = new Registry()
  readonly jwksFetches = new Counter({
    name: 'tollgate_jwks_fetches_total',
    help: 'JWKS fetch attempts by outcome (ok, error)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  })
  readonly jwksFailures = new Counter({
    name: 'tollgate_jwks_fetch_failures_total',
    help: 'JWKS fetches that failed (the last good key set stays in use)',
    registers: [this.registry],
  })
  readonly tokensRefused = new Counter({
    name: 'tollgate_tokens_refused_total',
    help: 'Requests refused by the bearer-token check, by reason code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  })
  /** Labels method, route, status. */
  readonly httpDuration = new LatencyHistogram(
    'tollgate_http_request_duration_seconds',
    'Request latency by route',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  )

  readonly #byRoute = new Map<string, LatencySeries>()

  constructor() {
    this.registry.registerMetric(this.httpDuration as never)
    collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_' })
  }

  /** Records a request's latency; label sets are bound once, not hashed on every request. */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`
    let child = this.#byRoute.get(key)
    if (!child) {
      child = this.httpDuration.series({ method, route: route ?? 'unmatched', status: String(status) })

      this.#byRoute.set(key, child)
    }
    child.observe(seconds)
  }
}
