// Typed errors for bearer-token verification, each mapping to an RFC 6750 response.

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
  | 'ERR_INVALID_REQUEST'
  | 'ERR_INSUFFICIENT_SCOPE'
  | 'ERR_JWKS_UNAVAILABLE'

/**
 * Base class of every error `@tollgate/shared` throws for bad input. `status` is
 * the HTTP status a resource server should answer with and `error` the RFC 6750
 * error code (absent when the request simply carried no token).
 */
export class TollgateTokenError extends Error {
  readonly code: TokenErrorCode
  readonly status: number
  readonly error: string | undefined

  constructor(code: TokenErrorCode, status: number, error: string | undefined, message: string) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.status = status
    this.error = error
  }
}

/** No bearer token in the request: 401 with a bare `Bearer realm=…` challenge. */
export class MissingTokenError extends TollgateTokenError {
  constructor() {
    super('ERR_TOKEN_MISSING', 401, undefined, 'no bearer token in the request')
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
 * The verifier holds no keys and could not fetch the JWKS: the token may well be
 * valid, so this is the server's problem (503), not the client's.
 */
export class KeySetUnavailableError extends TollgateTokenError {
  constructor(message = 'signing keys are not available yet') {
    super('ERR_JWKS_UNAVAILABLE', 503, 'temporarily_unavailable', message)
  }
}

const quote = (value: string): string => value.replace(/[\\"]/g, '\\$&')

/**
 * The `WWW-Authenticate` value for an error (RFC 6750 §3).
 *
 * @example
 * reply.header('www-authenticate', bearerChallenge(err, 'notes-api'))
 */
export function bearerChallenge(err: TollgateTokenError, realm: string): string {
  const parts = [`realm="${quote(realm)}"`]
  if (err.error !== undefined && err.status !== 503) {
    parts.push(`error="${err.error}"`, `error_description="${quote(err.message)}"`)
    if (err instanceof InsufficientScopeError) parts.push(`scope="${quote(err.scope)}"`)
  }
  return `Bearer ${parts.join(', ')}`
}

/** The JSON body that accompanies an RFC 6750 error answer. */
export function bearerErrorBody(err: TollgateTokenError): { error: string; error_description: string } {
  return { error: err.error ?? 'unauthorized', error_description: err.message }
}
