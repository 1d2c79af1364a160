// Prometheus metrics of one auth server instance (prom-client), exposed at /metrics.
//
// prom-client (and the OpenTelemetry API it loads) is imported after the server listens, not before: it was a tenth
// of the cold start. Until then, counter updates are queued and replayed; afterwards each counter is prom-client's own
// object. The latency histogram is ours (LatencyHistogram) from the start and joins the registry when it loads.
import { LatencyHistogram, routeObserver } from '@tollgate/shared/service'
import type { Registry } from 'prom-client'

type Labels = Record<string, string>
interface CounterLike {
  inc(labels?: Labels, value?: number): void
}

const COUNTERS = {
  tokensIssued: ['tollgate_tokens_issued_total', 'Access tokens issued, by grant and client', ['grant', 'client_id']],
  refreshes: [
    'tollgate_refresh_total',
    'Refresh-token presentations, by outcome (rotated, replay, reuse, invalid, ...)',
    ['outcome'],
  ],
  reuseDetected: [
    'tollgate_refresh_reuse_detected_total',
    'Spent refresh tokens presented again: the session was revoked as stolen',
    ['client_id'],
  ],
  sessionsStarted: ['tollgate_sessions_started_total', 'Sessions (refresh-token families) started', ['client_id']],
  loginFailures: [
    'tollgate_login_failures_total',
    'Failed user authentications (bad username or password, disabled user)',
    [],
  ],
  throttled: [
    'tollgate_login_throttled_total',
    'Password or secret checks refused before they ran (progressive delay, account or IP lockout)',
    ['reason'],
  ],
  lockouts: ['tollgate_account_lockouts_total', 'Accounts locked after too many failed logins', []],
  clientAuthFailures: ['tollgate_client_auth_failures_total', 'Failed client authentications', []],
  revocations: ['tollgate_revocations_total', 'Tokens revoked at the revocation endpoint, by type', ['token_type']],
  storeErrors: [
    'tollgate_store_unavailable_total',
    'Requests answered 503 because the store (Redis) was unreachable',
    [],
  ],
} as const satisfies Record<string, readonly [string, string, readonly string[]]>

type CounterName = keyof typeof COUNTERS

/** The labels without `client_id`. */
function withoutClient(labels: Labels | undefined): Labels {
  if (labels === undefined) return {}
  const { client_id: _, ...rest } = labels
  return rest
}
const MAX_QUEUED = 10_000

/**
 * Every metric the auth server records. A registry per instance, so several
 * servers (tests, the test issuer) can live in one process.
 *
 * @example
 * ctx.metrics.tokensIssued.inc({ grant: 'client_credentials', client_id })
 */
export class AuthMetrics implements Record<CounterName, CounterLike> {
  tokensIssued!: CounterLike
  refreshes!: CounterLike
  reuseDetected!: CounterLike
  sessionsStarted!: CounterLike
  loginFailures!: CounterLike
  throttled!: CounterLike
  lockouts!: CounterLike
  clientAuthFailures!: CounterLike
  revocations!: CounterLike
  storeErrors!: CounterLike
  /** Per-route latency (labels method, route, status): our own cheap histogram, rendered by the same registry. */
  readonly httpDuration = new LatencyHistogram(
    'tollgate_http_request_duration_seconds',
    'Request latency by route',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  )
  /** Records a request's latency (the observer `routeLatency` calls). */
  readonly observeRequest = routeObserver(this.httpDuration)
  #registry: Registry | undefined
  #loading: Promise<Registry> | undefined
  readonly #queue: (() => void)[] = []

  readonly #clientLabels: boolean

  /**
   * @param options.clientLabels label counters by `client_id` (METRICS_CLIENT_LABELS); off by default, so /metrics
   * does not enumerate the registered clients.
   */
  constructor(options: { clientLabels?: boolean } = {}) {
    this.#clientLabels = options.clientLabels ?? false
    const queued = (apply: (metrics: AuthMetrics) => void) => {
      if (this.#queue.length < MAX_QUEUED) this.#queue.push(() => apply(this))
    }
    for (const name of Object.keys(COUNTERS) as CounterName[]) {
      this[name] = { inc: (labels, value) => queued((m) => m[name].inc(labels, value)) }
    }
  }

  /** Loads prom-client and swaps the queueing stand-ins for real metrics. Idempotent. */
  load(): Promise<Registry> {
    this.#loading ??= import('prom-client').then((client) => {
      const registry = new client.Registry()
      for (const [name, [metric, help, labelNames]] of Object.entries(COUNTERS) as [
        CounterName,
        (typeof COUNTERS)[CounterName],
      ][]) {
        const withClient = (labelNames as readonly string[]).includes('client_id')
        const names = this.#clientLabels ? [...labelNames] : labelNames.filter((l: string) => l !== 'client_id')
        const counter = new client.Counter({ name: metric, help, labelNames: names, registers: [registry] })
        this[name] =
          withClient && !this.#clientLabels
            ? { inc: (labels, value) => counter.inc(withoutClient(labels), value as number) }
            : (counter as unknown as CounterLike)
      }
      registry.registerMetric(this.httpDuration as never)
      client.collectDefaultMetrics({ register: registry, prefix: 'tollgate_' })
      this.#registry = registry
      for (const replay of this.#queue.splice(0)) replay()
      return registry
    })
    return this.#loading
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    const registry = this.#registry ?? (await this.load())
    return { contentType: registry.contentType, body: await registry.metrics() }
  }
}
