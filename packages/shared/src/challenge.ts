// RFC 6750 §3 answers for refused tokens: the WWW-Authenticate challenge and the JSON body beside it.
import { InsufficientScopeError, type TollgateTokenError } from './errors.js'

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
