// Public API of @tollgate/shared.
export { bearerToken } from './bearer.js'
export { type AccessTokenClaims, type AuthContext, authContext, parseScope } from './claims.js'
export { ConfigError } from './config-error.js'
export { type CorsPolicy, corsHook } from './cors.js'
export { type DocsModules, type LazyDocsOptions, lazyDocs } from './docs.js'
export {
  bearerChallenge,
  bearerErrorBody,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  KeySetUnavailableError,
  MissingTokenError,
  type TokenErrorCode,
  TollgateTokenError,
} from './errors.js'
export { type AuthHook, type TollgatePluginOptions, tollgate } from './fastify-plugin.js'
export { LatencyHistogram, type LatencySeries, type MetricSnapshot, routeObserver } from './latency-histogram.js'
export type { KeySet, KeySetFetchEvent, KeySetStats } from './lib/key-set.js'

export { routeLatency } from './route-latency.js'
export {
  DiscoveryError,
  TokenClient,
  TokenClientError,
  type TokenClientOptions,
  TokenEndpointError,
  TokenRequestError,
  type TokenSet,
} from './token-client.js'
export { createVerifier, metadataUrl, type Verifier, type VerifierOptions } from './verifier.js'
