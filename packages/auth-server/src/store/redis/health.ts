// Fail fast while Redis does not answer, and keep Redis's clock, so writes can carry a deadline in its time.

export interface RedisHealthOptions {
  /** Sends one PING; must settle (reject) by itself when Redis does not answer. */
  readonly ping: () => Promise<unknown>
  /** Redis `TIME` in epoch milliseconds. */
  readonly time: () => Promise<number>
  /** A probe that gets no answer within this time counts as failed. */
  readonly timeoutMs: number
  /** Pause between probes while Redis is not answering. Default 100 ms. */
  readonly probeIntervalMs?: number
  /** How often the clock offset is measured again while Redis answers. Default 30 s. */
  readonly clockIntervalMs?: number
  readonly onChange?: (up: boolean, reason: string) => void
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref()
  })

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('probe timed out')), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * A circuit breaker in front of Redis. While Redis answers, commands go through. Once one gets no answer within the
 * command timeout, the breaker opens: every further command is refused at once (503 without a wait) instead of
 * queueing behind the stalled ones, and a probe pings until Redis answers again. So a stall costs each request at
 * most one timeout, never one per command.
 *
 * It also measures how far Redis's clock is from ours (`TIME`, corrected by half the round trip), so a deadline
 * computed here can be checked by a script against Redis's own clock.
 *
 * @example
 * const health = new RedisHealth({ ping: () => redis.ping(), time: () => redisTime(redis), timeoutMs: 1500 })
 * if (!health.up) throw new StoreUnavailableError('Redis is not answering')
 */
export class RedisHealth {
  readonly #options: RedisHealthOptions
  #up = true
  #offsetMs = 0
  #closed = false
  #probing = false
  readonly #clockTimer: NodeJS.Timeout

  constructor(options: RedisHealthOptions) {
    this.#options = options
    this.#clockTimer = setInterval(() => {
      if (this.#up) this.syncClock().catch(() => {})
    }, options.clockIntervalMs ?? 30_000)
    this.#clockTimer.unref()
  }

  /** False while commands are refused without being sent. */
  get up(): boolean {
    return this.#up
  }

  /** Redis's clock minus ours, in milliseconds. */
  get offsetMs(): number {
    return this.#offsetMs
  }

  /** Our current time on Redis's clock (epoch ms). */
  redisNow(): number {
    return Date.now() + this.#offsetMs
  }

  /** A command got no answer in time: refuse commands until Redis answers a probe. */
  trip(reason: string): void {
    if (this.#closed) return
    if (this.#up) {
      this.#up = false
      this.#options.onChange?.(false, reason)
    }
    if (!this.#probing) this.#probe().catch(() => {})
  }

  /**
   * Measures the clock offset: three TIME round trips, keeping the fastest, whose midpoint is the best estimate (the
   * error is at most half its round trip).
   */
  async syncClock(): Promise<void> {
    let best: { rtt: number; offset: number } | undefined
    for (let i = 0; i < 3; i++) {
      const sent = performance.now()
      const wall = Date.now()
      const remote = await withTimeout(this.#options.time(), this.#options.timeoutMs)
      const rtt = performance.now() - sent
      if (!best || rtt < best.rtt) best = { rtt, offset: Math.round(remote - (wall + rtt / 2)) }
    }
    if (best) this.#offsetMs = best.offset
  }

  async #probe(): Promise<void> {
    this.#probing = true
    try {
      while (!this.#up && !this.#closed) {
        await sleep(this.#options.probeIntervalMs ?? 100)
        try {
          await withTimeout(this.#options.ping(), this.#options.timeoutMs)
          await this.syncClock()
        } catch {
          continue
        }
        if (this.#closed) return
        this.#up = true
        this.#options.onChange?.(true, 'Redis answers again')
      }
    } finally {
      this.#probing = false
    }
  }

  close(): void {
    this.#closed = true
    clearInterval(this.#clockTimer)
  }
}
