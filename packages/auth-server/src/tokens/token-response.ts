// The token endpoint's success body (RFC 6749 §5.1), as every grant and the browser session endpoints build it.

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  refresh_token?: string
  id_token?: string
}
