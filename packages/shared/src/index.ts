// Public API of @tollgate/shared: verify access tokens, protect Fastify routes, get tokens as a client, administer.

export {
  type AccessTokenCheck,
  accessTokenCheck,
  type IdTokenCheck,
  idTokenCheck,
  type KeySource,
  MAX_ACTOR_DEPTH,
  MAX_TOKEN_TIME,
  type VerifiedAccessToken,
} from './access-token.js'
export {
  AdminApiError,
  AdminClient,
  type AdminClientOptions,
  type AdminPage,
  type RequestOptions as AdminRequestOptions,
  type Versioned,
} from './admin-client.js'
export { bearerToken } from './bearer.js'
export { bearerChallenge, bearerErrorBody, type ChallengeOptions, challenges } from './challenge.js'
export {
  type AccessTokenClaims,
  type ActorClaim,
  type AuthContext,
  actorsOf,
  authContext,
  parseScope,
} from './claims.js'
export { type DeviceCodePrompt, type DeviceLoginOptions, type DeviceLoginTokens, deviceLogin } from './device-login.js'
export { type DpopNonces, dpopNonces } from './dpop/nonce.js'
export {
  accessTokenHash,
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  type DpopCheckOptions,
  type DpopRequest,
  dpopProofCheck,
  jwkThumbprint,
  normalizeHtu,
  type VerifiedProof,
} from './dpop/proof.js'
export { memoryReplayGuard, type RedisSetNx, type ReplayGuard, redisReplayGuard } from './dpop/replay.js'
export {
  DiscoveryError,
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  JwksFetchError,
  KeySetUnavailableError,
  MissingTokenError,
  TokenClientError,
  TokenEndpointError,
  type TokenErrorCode,
  TokenRequestError,
  TollgateError,
  TollgateTokenError,
  UseDpopNonceError,
} from './errors.js'
export { type AuthHook, type TollgatePluginOptions, tollgate } from './fastify-plugin.js'
export { validHost } from './lib/host.js'
export type { KeySet, KeySetFetchEvent, KeySetStats } from './lib/key-set.js'
export type { RevocationStatus } from './revocation/follower.js'
export { type ExchangeOptions, TokenClient, type TokenClientOptions, type TokenSet } from './token-client.js'
export { SpanKind, traceHeaders, tracingState, withSpan } from './tracing.js'
export {
  createVerifier,
  RevocationLagError,
  type TokenRequest,
  type Verifier,
  type VerifierOptions,
  type VerifierRevocation,
} from './verifier.js'
