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
export type { AssertionKeyInput } from './lib/client-assertion.js'
export { type AuthorizationServerMetadata, discover, endpoint, type MetadataGet } from './lib/discovery.js'
export { validHost } from './lib/host.js'
// The one asymmetric-signature module (RS256, PS256, ES256, ES384, EdDSA/Ed25519) and the JWKS cache, for the auth
// server's signing and client assertions: every JWS anyone in Tollgate checks goes through these.
export {
  algorithmOfJwk,
  algorithmOfKey,
  type DecodedJws,
  decodeJws,
  hasPrivateMembers,
  importPublicJwk,
  isJwsAlgorithm,
  isSigningAlgorithm,
  JWS_ALGORITHMS,
  type JwsAlgorithm,
  JwsFormatError,
  jwkFits,
  keyFits,
  MIN_RSA_BITS,
  publicJwkOf,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  signInPool,
  signSync,
  verifySignature,
  verifySignatureInPool,
} from './lib/jws.js'
export {
  createKeySet,
  entryFits,
  type ImportedKeys,
  importJwks,
  type KeySet,
  type KeySetEntry,
  type KeySetFetchEvent,
  type KeySetOptions,
  type KeySetStats,
} from './lib/key-set.js'
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
