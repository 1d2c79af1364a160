// @tollgate/shared/service: what a Tollgate-style service is built from besides token checks — configuration
// parsing, CORS, lazy OpenAPI docs, latency metrics, RFC 9728 protected-resource metadata.
export { ConfigError } from '../errors.js'
export { type CorsPolicy, corsHook } from './cors.js'
export { type DocsModules, type LazyDocsOptions, lazyDocs } from './docs.js'
export * as env from './env.js'
export { LatencyHistogram, type LatencySeries, type MetricSnapshot, routeObserver } from './latency-histogram.js'
export {
  type ProtectedResource,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
  serveProtectedResourceMetadata,
} from './resource-metadata.js'
export { routeLatency } from './route-latency.js'
