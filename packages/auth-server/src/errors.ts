// Errors: OAuth 2.0 protocol errors (RFC 6749 §5.2, RFC 7009, RFC 8707, RFC 9449) as one base class, the simple
// ones made from a table; and the server's own failures, each with a stable code.
import { TollgateError } from '@tollgate/shared'

export interface OAuthErrorOptions {
  /** Another status than the code's usual one (415, 413 for an unusable body). */
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
  /** What the operator needs to know, logged with the request id; never sent to the client. */
  readonly detail?: string
}

/**
 * An error the client caused or may be told about. The error handler answers `{ error: code, error_description:
 * message }` with `status` and `headers` and logs `detail`; anything that is not an OAuthError becomes
 * `server_error` and is logged instead.
 *
 * @example
 * throw new InvalidGrant('refresh token is invalid, expired or revoked', { detail: 'family revoked by reuse' })
 */
export class OAuthError extends Error {
  /** The RFC 6749 `error` value: stable, what clients branch on. */
  readonly code: string
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly detail: string | undefined

  constructor(code: string, status: number, description: string, options: OAuthErrorOptions = {}) {
    super(description)
    this.name = new.target.name
    this.code = code
    this.status = options.status ?? status
    this.headers = options.headers ?? {}
    this.detail = options.detail
  }
}

type SimpleError = new (description: string, options?: OAuthErrorOptions) => OAuthError

/** A subclass of OAuthError for one code and its usual status, named so logs and `instanceof` read well. */
function simple(name: string, code: string, status: number): SimpleError {
  const cls = class extends OAuthError {
    constructor(description: string, options?: OAuthErrorOptions) {
      super(code, status, description, options)
    }
  }
  Object.defineProperty(cls, 'name', { value: name })
  return cls
}

// The errors that are nothing but a code and a status.
export const InvalidRequest = simple('InvalidRequest', 'invalid_request', 400)
export const InvalidGrant = simple('InvalidGrant', 'invalid_grant', 400)
export const UnauthorizedClient = simple('UnauthorizedClient', 'unauthorized_client', 400)
export const UnsupportedGrantType = simple('UnsupportedGrantType', 'unsupported_grant_type', 400)
export const InvalidScope = simple('InvalidScope', 'invalid_scope', 400)
/** RFC 8707 §2: the requested resource is unknown or not allowed for this client. */
export const InvalidTarget = simple('InvalidTarget', 'invalid_target', 400)
export const AccessDenied = simple('AccessDenied', 'access_denied', 403)
/** RFC 7009 §2.2.1. */
export const UnsupportedTokenType = simple('UnsupportedTokenType', 'unsupported_token_type', 400)
export const NotFound = simple('NotFound', 'not_found', 404)
/** RFC 8628 §3.5: the user has not answered yet; poll again after the interval. */
export const AuthorizationPending = simple('AuthorizationPending', 'authorization_pending', 400)
/** RFC 8628 §3.5: polling too fast; the interval is now 5 s longer. */
export const SlowDown = simple('SlowDown', 'slow_down', 400)
/** RFC 8628 §3.5: the device code has expired; start over. */
export const ExpiredToken = simple('ExpiredToken', 'expired_token', 400)
export type InvalidRequest = InstanceType<typeof InvalidRequest>
export type InvalidGrant = InstanceType<typeof InvalidGrant>
export type UnauthorizedClient = InstanceType<typeof UnauthorizedClient>
export type UnsupportedGrantType = InstanceType<typeof UnsupportedGrantType>
export type InvalidScope = InstanceType<typeof InvalidScope>
export type InvalidTarget = InstanceType<typeof InvalidTarget>
export type AccessDenied = InstanceType<typeof AccessDenied>
export type UnsupportedTokenType = InstanceType<typeof UnsupportedTokenType>
export type NotFound = InstanceType<typeof NotFound>

/** Client authentication failed: always 401 with a Basic challenge (RFC 6749 §5.2), whatever the reason. */
export class InvalidClient extends OAuthError {
  constructor(description = 'client authentication failed', options: OAuthErrorOptions = {}) {
    super('invalid_client', 401, description, {
      ...options,
      headers: { 'www-authenticate': 'Basic realm="tollgate", charset="UTF-8"' },
    })
  }
}

const retryAfter = (seconds: number) => ({ 'retry-after': String(Math.max(1, Math.ceil(seconds))) })

/** A dependency (the store) is down: 503, safe for the client to retry. */
export class TemporarilyUnavailable extends OAuthError {
  constructor(description = 'the service is temporarily unavailable, retry shortly', retryAfterSec = 1) {
    super('temporarily_unavailable', 503, description, { headers: retryAfter(retryAfterSec) })
  }
}

/** Too many attempts: 429 with Retry-After. */
export class TooManyRequests extends OAuthError {
  constructor(retryAfterSec: number, description = 'too many requests, retry later') {
    super('too_many_requests', 429, description, { headers: retryAfter(retryAfterSec) })
  }
}

/**
 * Thrown by a store when its backend cannot answer in time; becomes {@link TemporarilyUnavailable} at the edge.
 */
export class StoreUnavailableError extends TollgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORE_UNAVAILABLE', message, options)
  }
}

/**
 * The store is set up in a way that would lose data (an evicting Redis `maxmemory-policy`); the server refuses to run
 * on it. The message is one line naming the setting and the fix.
 */
export class StoreMisconfiguredError extends TollgateError {
  constructor(message: string) {
    super('ERR_STORE_MISCONFIGURED', message)
  }
}
