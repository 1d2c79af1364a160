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
