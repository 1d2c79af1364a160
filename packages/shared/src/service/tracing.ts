// OpenTelemetry tracing for a Tollgate service, with the official packages: traces exported over OTLP/HTTP, W3C
// trace context accepted and propagated, one server span per request. Loaded only when the operator configures an
// OTLP endpoint; without it nothing here is even imported.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import {
  context,
  extractContext,
  type Span,
  SpanKind,
  SpanStatusCode,
  startSpan,
  trace,
  tracingState,
} from '../tracing.js'
import type { Env } from './env.js'

/** Whether the environment asks for traces (the standard OpenTelemetry variables). */
export function tracingConfigured(env: Env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true'
}

export interface Tracing {
  /** Sends what is buffered and stops (on shutdown). */
  shutdown(): Promise<void>
}

/**
 * Starts the process's tracer provider: OTLP/HTTP exporter (OTEL_EXPORTER_OTLP_ENDPOINT, …_TRACES_ENDPOINT, headers
 * and timeouts from the standard variables), the sampler from OTEL_TRACES_SAMPLER (default: parent-based, always on),
 * W3C trace context. Call once, before building the app.
 *
 * @example
 * const tracing = tracingConfigured(process.env) ? await startTracing({ serviceName: 'orders' }) : undefined
 */
export async function startTracing(options: { serviceName: string; serviceVersion?: string }): Promise<Tracing> {
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, semconv, core] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/semantic-conventions'),
      import('@opentelemetry/core'),
    ])
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: options.serviceName,
      ...(options.serviceVersion ? { [semconv.ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 })],
  })
  provider.register({ propagator: new core.W3CTraceContextPropagator() })
  tracingState.enabled = true
  return {
    async shutdown() {
      tracingState.enabled = false
      await provider.shutdown()
    },
  }
}

const spans = new WeakMap<FastifyRequest, Span>()

/**
 * A server span per request, continuing the caller's W3C `traceparent`, active for everything the request does
 * (so store calls, signing and verification nest under it). Attributes: method, route template and status — never
 * the path itself (it may hold identifiers of people), the query, headers or bodies. Registered only when tracing.
 *
 * @example
 * if (tracingState.enabled) await app.register(tracedRequests)
 */
export const tracedRequests = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
      if (!tracingState.enabled) return done()
      const parent = extractContext(request.headers)
      const route = request.routeOptions.url ?? 'unmatched'
      const span = startSpan(
        `${request.method} ${route}`,
        { 'http.request.method': request.method, 'http.route': route },
        parent,
        SpanKind.SERVER,
      )
      spans.set(request, span)
      context.with(trace.setSpan(parent, span), done)
    })
    app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const span = spans.get(request)
      if (span) {
        span.setAttribute('http.response.status_code', reply.statusCode)
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
        span.end()
        spans.delete(request)
      }
      done()
    })
  },
  { fastify: '5.x', name: 'tollgate-traced-requests' },
)
