// RFC 6750 §3 answers for refused tokens: the WWW-Authenticate challenge and the JSON body beside it.
import { InsufficientScopeError, type TollgateTokenError, UseDpopNonceError } from './errors.js'

/** A quoted-string value: backslash-escaped, and ASCII only (a header cannot carry anything else). */
const quote = (value: string): string => value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, '?')

/** Extra parameters of a challenge. */
export interface ChallengeOptions {
  /**
   * RFC 9728 §5.1: the URL of the resource's protected-resource metadata, so a client that was refused can find
   * which authorization server and scopes the resource wants.
   */
  readonly resourceMetadata?: string
}

/** `realm`, then `resource_metadata` when there is one: the parameters every challenge of a resource starts with. */
const leading = (realm: string, options: ChallengeOptions | undefined): string[] =>
  options?.resourceMetadata === undefined
    ? [`realm="${quote(realm)}"`]
    : [`realm="${quote(realm)}"`, `resource_metadata="${quote(options.resourceMetadata)}"`]

/**
 * The `WWW-Authenticate` value for an error (RFC 6750 §3).
 *
 * @example
 * reply.header('www-authenticate', bearerChallenge(err, 'notes-api'))
 */
export function bearerChallenge(err: TollgateTokenError, realm: string, options?: ChallengeOptions): string {
  const parts = leading(realm, options)
  if (err.error !== undefined && err.status !== 503) {
    parts.push(`error="${err.error}"`, `error_description="${quote(err.message)}"`)
    if (err instanceof InsufficientScopeError) parts.push(`scope="${quote(err.scope)}"`)
  }
  return `Bearer ${parts.join(', ')}`
}

/**
 * The JSON body that accompanies an RFC 6750 error answer. A request without any credential gets no `error` code
 * (RFC 6750 §3.1: the client has not tried yet), only a description of what is needed.
 */
export function bearerErrorBody(err: TollgateTokenError): { error?: string; error_description: string } {
  return err.error === undefined
    ? { error_description: err.message }
    : { error: err.error, error_description: err.message }
}

/**
 * Every challenge for a refusal (RFC 6750 §3, RFC 9449 §7.1): the error goes in the scheme the request used; a
 * resource that takes DPoP also offers it (`DPoP algs="…"`) beside a Bearer error. Set as one header value each.
 *
 * @example
 * reply.header('www-authenticate', challenges(err, realm, ['ES256', 'EdDSA'], 'DPoP'))
 */
export function challenges(
  err: TollgateTokenError,
  realm: string,
  dpopAlgorithms: readonly string[],
  scheme: 'Bearer' | 'DPoP',
  options?: ChallengeOptions,
): string[] {
  const algs = dpopAlgorithms.length > 0 ? `algs="${dpopAlgorithms.join(' ')}"` : undefined
  const details = (
    err.error !== undefined && err.status !== 503
      ? [`error="${err.error}"`, `error_description="${quote(err.message)}"`]
      : []
  ).concat(err instanceof InsufficientScopeError ? [`scope="${quote(err.scope)}"`] : [])
  const dpopError = scheme === 'DPoP' || err instanceof UseDpopNonceError || err.code === 'ERR_DPOP_PROOF'
  if (dpopError && algs) {
    return [`DPoP ${[...leading(realm, options), ...details, algs].join(', ')}`]
  }
  const bearer = bearerChallenge(err, realm, options)
  return algs ? [bearer, `DPoP ${[...leading(realm, options), algs].join(', ')}`] : [bearer]
}
