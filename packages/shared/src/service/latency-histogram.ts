// A Prometheus histogram for per-request latency that costs a bucket search and three additions per observation.
//
// prom-client's Histogram hashes and validates the label set on every observe(), even through a bound child; on a
// route that answers from the verified-token cache that was a tenth of the JavaScript work per request. This one
// keeps plain counters per label set and builds the exposition only when scraped. It is registered in a prom-client
// Registry as a custom metric (`registry.registerMetric(histogram)`), next to prom-client's own metrics.

type Labels = Readonly<Record<string, string>>

interface Series {
  readonly labels: Labels
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array
  sum: number
  count: number
}

/** One label set of a {@link LatencyHistogram}, bound once. */
export interface LatencySeries {
  observe(seconds: number): void
}

/** The value shape prom-client's Registry renders (`get()` of a metric). */
export interface MetricSnapshot {
  readonly name: string
  readonly help: string
  readonly type: 'histogram'
  readonly aggregator: 'sum'
  readonly values: { readonly metricName: string; readonly labels: Record<string, string | number>; value: number }[]
}

/**
 * @example
 * const latency = new LatencyHistogram('http_request_duration_seconds', 'Request latency by route', [0.001, 0.01, 0.1])
 * registry.registerMetric(latency as never)
 * latency.series({ route: '/orders' }).observe(0.004)
 */
export class LatencyHistogram {
  readonly type = 'histogram' as const
  readonly aggregator = 'sum' as const
  readonly #buckets: Float64Array
  readonly #series = new Map<string, Series>()

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    if (buckets.length === 0 || buckets.some((b, i) => !(b > (buckets[i - 1] ?? Number.NEGATIVE_INFINITY)))) {
      throw new TypeError('buckets must be increasing numbers')
    }
    this.#buckets = Float64Array.from(buckets)
  }

  /** The series for this label set (created on first use); keep it and call `observe` on it. */
  series(labels: Labels): LatencySeries {
    const key = JSON.stringify(labels)
    let series = this.#series.get(key)
    if (!series) {
      series = { labels: { ...labels }, counts: new Float64Array(this.#buckets.length + 1), sum: 0, count: 0 }
      this.#series.set(key, series)
    }
    const bounds = this.#buckets
    const s = series
    return {
      observe(seconds: number) {
        let i = 0
        while (i < bounds.length && seconds > (bounds[i] as number)) i++
        s.counts[i] = (s.counts[i] as number) + 1
        s.sum += seconds
        s.count++
      },
    }
  }

  /** Cumulative `_bucket{le}`, `_sum` and `_count` samples of every series, as prom-client renders them. */
  get(): MetricSnapshot {
    const values: MetricSnapshot['values'] = []
    for (const s of this.#series.values()) {
      let cumulative = 0
      for (let i = 0; i <= this.#buckets.length; i++) {
        cumulative += s.counts[i] as number
        const le = i < this.#buckets.length ? (this.#buckets[i] as number) : '+Inf'
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative })
      }
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum })
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** Zeroes every series (prom-client's `registry.resetMetrics()` calls this); bound series stay valid. */
  reset(): void {
    for (const s of this.#series.values()) {
      s.counts.fill(0)
      s.sum = 0
      s.count = 0
    }
  }
}

/**
 * An observer for {@link routeLatency} recording into `histogram` with labels `method`, `route`, `status`; each label
 * set is bound to its series once, so an observation is a Map lookup and the bucket update.
 *
 * @example
 * routeLatency(app, routeObserver(latency))
 */
export function routeObserver(
  histogram: LatencyHistogram,
): (method: string, route: string, status: number, seconds: number) => void {
  // method → route → status → series: the method and route strings are the same objects on every call (hashed once),
  // the status a small integer, so an observation allocates nothing.
  const bound = new Map<string, Map<string, Map<number, LatencySeries>>>()
  return (method, route, status, seconds) => {
    let routes = bound.get(method)
    if (!routes) {
      routes = new Map()
      bound.set(method, routes)
    }
    let statuses = routes.get(route)
    if (!statuses) {
      statuses = new Map()
      routes.set(route, statuses)
    }
    let series = statuses.get(status)
    if (!series) {
      series = histogram.series({ method, route, status: String(status) })
      statuses.set(status, series)
    }
    series.observe(seconds)
  }
}
