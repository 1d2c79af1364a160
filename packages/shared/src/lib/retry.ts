// Retries with jittered exponential backoff for requests to an authorization server: network errors, timeouts and
// 5xx are worth another try (honouring Retry-After); a 4xx never is.
import { TokenRequestError } from '../errors.js'

/** A failure that is worth another try. */
export class Retryable extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface RetryPolicy {
  /** Retries after the first attempt. Default 3. */
  readonly retries?: number
  /** First backoff delay; doubles each retry, with full jitter. Default 100 ms. */
  readonly retryDelayMs?: number
  /** Cap of every delay. Default 5 000 ms. */
  readonly maxRetryDelayMs?: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date). */
export function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/**
 * Runs `attempt` until it succeeds, throws something that is not {@link Retryable}, or the retries are spent
 * (then TokenRequestError with the last status).
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
  const retries = policy.retries ?? 3
  const base = policy.retryDelayMs ?? 100
  const cap = policy.maxRetryDelayMs ?? 5_000
  for (let i = 0; ; i++) {
    try {
      return await attempt()
    } catch (err) {
      if (!(err instanceof Retryable)) throw err
      if (i >= retries) {
        throw new TokenRequestError(`${err.message} (after ${i + 1} attempts)`, err.status, { cause: err.cause })
      }
      const backoff = Math.random() * Math.min(cap, base * 2 ** i)
      await sleep(Math.min(cap, Math.max(backoff, err.retryAfterMs ?? 0)))
    }
  }
}
