// Extracts the bearer token from an Authorization header (RFC 6750 §2.1).
import { InvalidRequestError, MissingTokenError } from './errors.js'

/** Neither whitespace nor past ASCII (NaN, past the end, is neither). */
const printable = (code: number): boolean => code > 32 && code < 127

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
  // The common spelling, without allocating a lower-cased copy of the scheme.
  if (
    header.startsWith('Bearer ') &&
    printable(header.charCodeAt(7)) &&
    printable(header.charCodeAt(header.length - 1))
  ) {
    const token = header.slice(7)
    if (!token.includes(' ')) return token
  }
  const space = header.indexOf(' ')
  const scheme = space === -1 ? header : header.slice(0, space)
  if (scheme.toLowerCase() !== 'bearer') throw new MissingTokenError()
  const token = header.slice(space + 1).trim()
  if (space === -1 || token === '') throw new InvalidRequestError('Authorization header has no bearer token')
  if (token.includes(' ')) throw new InvalidRequestError('Authorization header is malformed')
  // The token's characters are checked by the verifier (a JWS is base64url segments), not twice on every request.
  return token
}
