// OAuth 2.0 protocol errors (RFC 6749 §5.2, RFC 7009, RFC 8707): one class per error code.

/**
 * An error the client caused or may be told about. The error handler serialises
 * it as `{ error, error_description }` with `status` and `headers`; anything
 * that is not an OAuthError becomes `server_error` and is logged instead.
 */
export class OAuthError extends Error {
  readonly error: string
  readonly status: number
  readonly headers: Readonly<Record<string, string>>

  constructor(error: string, status: number, description: string, headers: Record<string, string> = {}) {
    super(description)
    this.name = new.target.name
    this.error = error
    this.status = status
    this.headers = headers
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string, status = 400) {
    super('invalid_request', status, description)
  }
}

/** Client authentication failed: always 401 with a Basic challenge (RFC 6749 §5.2). */
export class InvalidClient extends OAuthError {
  constructor(description = 'client authentication failed') {
    super('invalid_client', 401, description, { 'www-authenticate': 'Basic realm="tollgate", charset="UTF-8"' })
  }
}

export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', 400, description)
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', 400, description)
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super('unsupported_grant_type', 400, description)
  }
}

export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', 400, description)
  }
}

/** RFC 8707 §2: the requested resource is unknown or not allowed for this client. */
export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super('invalid_target', 400, description)
  }
}

export class AccessDenied extends OAuthError {
  constructor(description: string, status = 403) {
    super('access_denied', status, description)
  }
}

/** RFC 7009 §2.2.1. */
export class UnsupportedTokenType extends OAuthError {
  constructor(description: string) {
    super('unsupported_token_type', 400, description)
  }
}

/** A dependency (the store) is down: 503, safe for the client to retry. */
export class TemporarilyUnavailable extends OAuthError {
  constructor(description = 'the service is temporarily unavailable, retry shortly', retryAfterSec = 1) {
    super('temporarily_unavailable', 503, description, { 'retry-after': String(retryAfterSec) })
  }
}

/** Too many attempts: 429 with Retry-After. */
export class TooManyRequests extends OAuthError {
  constructor(retryAfterSec: number, description = 'too many requests, retry later') {
    super('too_many_requests', 429, description, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSec))) })
  }
}

export class NotFound extends OAuthError {
  constructor(description = 'not found') {
    super('not_found', 404, description)
  }
}

/**
 * Thrown by a store when its backend cannot be reached; becomes
 * {@link TemporarilyUnavailable} at the edge.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}

/**
 * The store is set up in a way that would lose data (an evicting Redis `maxmemory-policy`); the server refuses to run
 * on it. The message is one line naming the setting and the fix.
 */
export class StoreMisconfiguredError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreMisconfiguredError'
  }
}
