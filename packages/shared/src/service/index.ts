// @tollgate/shared/service: what a Tollgate-style service is built from besides token checks — configuration
// parsing, CORS, lazy OpenAPI docs, latency metrics, request errors in people's words, RFC 9728 protected-resource
// metadata.
export { ConfigError } from '../errors.js'
export { type CorsPolicy, corsHook } from './cors.js'
export { type DocsModules, type LazyDocsOptions, lazyDocs } from './docs.js'
export * as env from './env.js'
export { LatencyHistogram, type LatencySeries, type MetricSnapshot, routeObserver } from './latency-histogram.js'
export {
  METRICS_CHALLENGE,
  type MetricsAccess,
  metricsAccess,
  metricsAuthorized,
  serveMetrics,
} from './metrics-access.js'
export {
  answerBody,
  clientErrorHandler,
  describeValidation,
  echo,
  expectedTypes,
  frameworkErrors,
  hasMalformedEscape,
  type RequestErrorAnswer,
  type RequestView,
  requestErrorAnswer,
} from './request-errors.js'
export {
  type ProtectedResource,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
  serveProtectedResourceMetadata,
} from './resource-metadata.js'
export { routeLatency } from './route-latency.js'
export { startTracing, type Tracing, tracedRequests, tracingConfigured } from './tracing.js'
