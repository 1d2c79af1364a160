// Spans for Tollgate's own work (verification, token requests, signing, store calls), on the OpenTelemetry API. Off
// until a process starts tracing (`startTracing` in @tollgate/shared/service): until then every helper here is one
// boolean check, so a service that does not trace pays nothing.
import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'

export type { Span }
export { SpanKind }

/** Whether this process traces (set once by `startTracing`). */
export const tracingState = { enabled: false }

const tracer = () => trace.getTracer('tollgate')

/**
 * The error's stable code only: an error message may quote input, and nothing a client sent goes into a span.
 * (Tollgate's errors carry `code`; an OAuth error its `code` too.)
 */
function recordFailure(span: Span, err: unknown): void {
  const code = (err as { code?: unknown } | undefined)?.code
  span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : 'error' })
  if (typeof code === 'string') span.setAttribute('tollgate.error', code)
}

/**
 * Runs `work` inside a span named `name` (a child of the active span), ending it when `work` settles. Attributes must
 * never carry a token, secret, assertion, password or personal data. Without tracing: just `work()`.
 *
 * @example
 * const token = await withSpan('tollgate.sign', { 'tollgate.alg': 'RS256' }, () => signJwt(claims, header, key))
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span | undefined) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!tracingState.enabled) return work(undefined)
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work(span)
    } catch (err) {
      recordFailure(span, err)
      throw err
    } finally {
      span.end()
    }
  })
}

/**
 * The W3C trace-context headers (`traceparent`, `tracestate`) of the active span, added to `headers`, so the next
 * service continues the trace. Without tracing: `headers` unchanged.
 *
 * @example
 * await fetch(url, { headers: traceHeaders({ authorization }) })
 */
export function traceHeaders<H extends Record<string, string>>(headers: H): H {
  if (tracingState.enabled) propagation.inject(context.active(), headers)
  return headers
}

/** The trace context a request arrived with (W3C `traceparent`), for a server span. */
export function extractContext(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers)
}

/** Starts a span as a child of `parent` without making it active (servers end it when the response is sent). */
export function startSpan(name: string, attributes: Attributes, parent: Context, kind: SpanKind): Span {
  return tracer().startSpan(name, { kind, attributes }, parent)
}

export { context, SpanStatusCode, trace }
