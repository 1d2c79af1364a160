// JSON schemas shared by routes: compiled once at startup, and the source of the OpenAPI document.

export const oauthError = {
  $id: 'OAuthError',
  type: 'object',
  description: 'RFC 6749 §5.2 error',
  properties: {
    error: { type: 'string' },
    error_description: { type: 'string' },
  },
  required: ['error'],
} as const

export const errorResponses = {
  '4xx': { $ref: 'OAuthError#' },
  '5xx': { $ref: 'OAuthError#' },
} as const

const tokenParam = { type: 'string', maxLength: 8192 } as const

/** The form body of the endpoints that take a token (RFC 7009 revocation, RFC 7662 introspection). */
export const tokenRequestBody = {
  type: 'object',
  properties: {
    token: tokenParam,
    token_type_hint: tokenParam,
    client_id: tokenParam,
    client_secret: tokenParam,
    client_assertion: tokenParam,
    client_assertion_type: tokenParam,
  },
  maxProperties: 16,
} as const

/**
 * How a client may authenticate (OpenAPI security requirements): a secret (Basic or form), a client assertion
 * (`private_key_jwt` or a platform token), or — where public clients may call — nothing.
 */
export const clientSecurity = [{ clientSecretBasic: [] }, { clientSecretPost: [] }, { privateKeyJwt: [] }] as const
