// The token endpoint's success body (RFC 6749 §5.1), as every grant and the browser session endpoints build it.

export interface TokenResponse {
  access_token: string
  /** `DPoP` when the access token is bound to the request's DPoP key (RFC 9449 §5). */
  token_type: 'Bearer' | 'DPoP'
  expires_in: number
  scope: string
  refresh_token?: string
  id_token?: string
  /** RFC 8693 §2.2.1, for exchanged tokens. */
  issued_token_type?: string
}

/** The token type of an access token bound (or not) to a DPoP key. */
export const tokenType = (jkt: string | undefined): 'Bearer' | 'DPoP' => (jkt === undefined ? 'Bearer' : 'DPoP')
