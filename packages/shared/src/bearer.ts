// Extracts the bearer token from an Authorization header (RFC 6750 §2.1).
import { InvalidRequestError, MissingTokenError } from './errors.js'

/**
 * The token of an `Authorization: Bearer …` header. Throws
 * {@link MissingTokenError} when there is no bearer credential,
 * {@link InvalidRequestError} when the header is malformed.
 *
 * @example
 * const token = bearerToken(request.headers.authorization)
 */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') throw new MissingTokenError()
  const space = header.indexOf(' ')
  const scheme = space === -1 ? header : header.slice(0, space)
  if (scheme.toLowerCase() !== 'bearer') throw new MissingTokenError()
  const token = header.slice(space + 1).trim()
  if (space === -1 || token === '') throw new InvalidRequestError('Authorization header has no bearer token')
  if (token.includes(' ')) throw new InvalidRequestError('Authorization header is malformed')
  // The token's characters are checked by the verifier (a JWS is base64url segments), not twice on every request.
  return token
}
