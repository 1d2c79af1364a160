// Prometheus metrics of the resource API: JWKS fetches, refused tokens, latency.

import type { VerifierRevocation } from '@tollgate/shared'
import { LatencyHistogram, routeObserver } from '@tollgate/shared/service'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'

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

  /** The revocation feed's lag and size, read at scrape time. */
  followRevocations(revocation: VerifierRevocation): void {
    new Gauge({
      name: 'tollgate_revocation_lag_seconds',
      help: 'Seconds since the verifier last knew it had every revocation event (0 while the feed is live)',
      registers: [this.registry],
      collect() {
        this.set(revocation.status.lagSeconds)
      },
    })
    new Gauge({
      name: 'tollgate_revocation_denials',
      help: 'Revocations (sessions, users, clients, tokens) the verifier holds',
      registers: [this.registry],
      collect() {
        this.set(revocation.status.denials)
      },
    })
  }

  constructor() {
    this.registry.registerMetric(this.httpDuration as never)
    collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_' })
  }
}
