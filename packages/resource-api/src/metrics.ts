// Prometheus metrics of the resource API: JWKS fetches, refused tokens, latency.
import { LatencyHistogram, routeObserver } from '@tollgate/shared/service'
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
  /** Records a request's latency (the observer `routeLatency` calls). */
  readonly observeRequest = routeObserver(this.httpDuration)

  constructor() {
    this.registry.registerMetric(this.httpDuration as never)
    collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_' })
  }
}
