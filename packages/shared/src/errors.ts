// Every error @tollgate/shared throws: one base class, each subclass with a stable `code`.
//
// A caller's programming mistake (a missing option) is a TypeError, thrown at once; these are for what the world
// does: bad tokens, unreachable issuers, refused token requests.

/**
 * Base class of every error `@tollgate/shared` throws for input or network conditions. `code` is stable: branch on
 * it (or `instanceof`), never on the message.
 */
export class TollgateError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** Stable machine-readable reasons a token was refused. */
export type TokenErrorCode =
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_TOKEN_ALG'
  | 'ERR_TOKEN_TYPE'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_UNKNOWN_KEY'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_CLAIM'
  | 'ERR_TOKEN_REVOKED'
  | 'ERR_TOKEN_DPOP_BOUND'
  | 'ERR_DPOP_PROOF'
  | 'ERR_DPOP_NONCE'
  | 'ERR_DPOP_REQUIRED'
  | 'ERR_REVOCATION_LAG'
  | 'ERR_INVALID_REQUEST'
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_JWKS_UNAVAILABLE'

/**
 * A request's token was refused. `status` is the HTTP status a resource server should answer with and `error` the
 * RFC 6750 error code (absent when the request simply carried no token).
 */
export class TollgateTokenError extends TollgateError {
  declare readonly code: TokenErrorCode
  readonly status: number
  readonly error: string | undefined

  constructor(code: TokenErrorCode, status: number, error: string | undefined, message: string) {
    super(code, message)
    this.status = status
    this.error = error
  }
}

/** No bearer token in the request: 401 with a bare `Bearer realm=…` challenge. */
export class MissingTokenError extends TollgateTokenError {
  constructor() {
    super('ERR_TOKEN_MISSING', 401, undefined, 'this resource needs an access token (Authorization: Bearer or DPoP)')
  }
}

/** The token is malformed, expired, revoked or otherwise unacceptable: 401 `invalid_token`. */
export class InvalidTokenError extends TollgateTokenError {
  constructor(code: TokenErrorCode, message: string) {
    super(code, 401, 'invalid_token', message)
  }
}

/** The Authorization header itself is malformed: 400 `invalid_request`. */
export class InvalidRequestError extends TollgateTokenError {
  constructor(message: string) {
    super('ERR_INVALID_REQUEST', 400, 'invalid_request', message)
  }
}

/** A valid token that lacks a required scope: 403 `insufficient_scope`. */
export class InsufficientScopeError extends TollgateTokenError {
  readonly scope: string

  constructor(required: readonly string[]) {
    super('ERR_INSUFFICIENT_SCOPE', 403, 'insufficient_scope', `requires scope ${required.join(' ')}`)
    this.scope = required.join(' ')
  }
}

/**
 * The verifier holds no keys and could not fetch the JWKS: the token may well be valid, so this is the server's
 * problem (503), not the client's.
 */
export class KeySetUnavailableError extends TollgateTokenError {
  constructor(message = 'signing keys are not available yet') {
    super('ERR_JWKS_UNAVAILABLE', 503, 'temporarily_unavailable', message)
  }
}

/**
 * A DPoP proof is missing, malformed, replayed or does not match the request or the token (RFC 9449): `status` 401 at
 * a resource server (the auth server answers 400), `error` `invalid_dpop_proof`.
 */
export class InvalidDpopProofError extends TollgateTokenError {
  constructor(message: string) {
    super('ERR_DPOP_PROOF', 401, 'invalid_dpop_proof', message)
  }
}

/** The proof lacks a current server nonce: retry with `nonce` (sent as the `DPoP-Nonce` header). */
export class UseDpopNonceError extends TollgateTokenError {
  constructor(
    readonly nonce: string,
    message = 'a DPoP nonce is required',
  ) {
    super('ERR_DPOP_NONCE', 401, 'use_dpop_nonce', message)
  }
}

/** A JWKS fetch failed or returned something unusable; the last good keys stay in use. */
export class JwksFetchError extends TollgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_JWKS_FETCH', message, options)
  }
}

/** Base class of every error a TokenClient throws. */
export class TokenClientError extends TollgateError {
  constructor(message: string, options?: { cause?: unknown }, code = 'ERR_TOKEN_CLIENT') {
    super(code, message, options)
  }
}

/** The token endpoint refused the request with an OAuth error (RFC 6749 §5.2). Not retried. */
export class TokenEndpointError extends TokenClientError {
  constructor(
    /** The OAuth `error` code, e.g. `invalid_client`, `invalid_grant`. */
    readonly error: string,
    readonly status: number,
    readonly description?: string,
  ) {
    super(
      `token endpoint answered ${status} ${error}${description ? `: ${description}` : ''}`,
      undefined,
      'ERR_TOKEN_ENDPOINT',
    )
  }
}

/** The server could not be reached or kept failing (network error, timeout, 5xx) after every retry. */
export class TokenRequestError extends TokenClientError {
  constructor(
    message: string,
    /** The last HTTP status, when there was an answer. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options, 'ERR_TOKEN_REQUEST')
  }
}

/** Discovery failed for good: no metadata, metadata of another issuer, or a missing endpoint. */
export class DiscoveryError extends TokenClientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options, 'ERR_DISCOVERY')
  }
}

/**
 * A configuration value is unusable; `message` is one line naming the variable and the problem (never the value,
 * which may be a secret).
 *
 * @example
 * throw new ConfigError('PORT', 'must be a whole number between 0 and 65535')
 */
export class ConfigError extends TollgateError {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super('ERR_CONFIG', `${variable}: ${problem}`)
  }
}
