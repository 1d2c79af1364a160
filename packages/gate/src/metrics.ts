// Prometheus metrics of the gate: decisions by result and reason, decision latency, JWKS fetches, the revocation
// feed's lag.
import type { VerifierRevocation } from '@tollgate/shared'
import { LatencyHistogram, type LatencySeries } from '@tollgate/shared/service'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'

/** allowed (200), refused (401), forbidden (403). */
export type DecisionResult = 'allowed' | 'refused' | 'forbidden'

export class GateMetrics {
  readonly registry = new Registry()
  readonly #decisions = new Counter({
    name: 'tollgate_gate_decisions_total',
    help: 'Decisions by result (allowed, refused, forbidden) and reason (token, public, or why it was refused)',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  })
  readonly #latency = new LatencyHistogram(
    'tollgate_gate_decision_duration_seconds',
    'Time from the proxy’s request to the decision, by result',
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  )
  readonly jwksFetches = new Counter({
    name: 'tollgate_jwks_fetches_total',
    help: 'JWKS fetch attempts by outcome (ok, error)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  })
  /** Bound label sets: counting a decision is a Map lookup and an addition. */
  readonly #bound = new Map<string, { inc(): void }>()
  readonly #series: Record<DecisionResult, LatencySeries>

  constructor() {
    this.registry.registerMetric(this.#latency as never)
    this.#series = {
      allowed: this.#latency.series({ result: 'allowed' }),
      refused: this.#latency.series({ result: 'refused' }),
      forbidden: this.#latency.series({ result: 'forbidden' }),
    }
    collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_gate_' })
  }

  /** Counts one decision and its latency. `reason` comes from a fixed set (error codes, gate reasons). */
  decision(result: DecisionResult, reason: string, seconds: number): void {
    const key = `${result} ${reason}`
    let counter = this.#bound.get(key)
    if (counter === undefined) {
      const bound = this.#decisions.labels(result, reason)
      counter = bound
      this.#bound.set(key, bound)
    }
    counter.inc()
    this.#series[result].observe(seconds)
  }

  /** The revocation feed's lag and size, read at scrape time. */
  followRevocations(revocation: VerifierRevocation): void {
    new Gauge({
      name: 'tollgate_revocation_lag_seconds',
      help: 'Seconds since the gate last knew it had every revocation event (0 while the feed is live)',
      registers: [this.registry],
      collect() {
        this.set(revocation.status.lagSeconds)
      },
    })
    new Gauge({
      name: 'tollgate_revocation_denials',
      help: 'Revocations (sessions, users, clients, tokens) the gate holds',
      registers: [this.registry],
      collect() {
        this.set(revocation.status.denials)
      },
    })
  }
}
