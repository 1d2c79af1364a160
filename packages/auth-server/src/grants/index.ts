// The grant registry: the token endpoint dispatches on grant_type through this map.
import { authorizationCode } from './authorization-code.js'
import { clientCredentials } from './client-credentials.js'
import { deviceCode } from './device-code.js'
import { password } from './password.js'
import { refreshToken } from './refresh-token.js'
import { tokenExchange } from './token-exchange.js'
import type { Grant } from './types.js'

export const grants: ReadonlyMap<string, Grant> = new Map(
  [authorizationCode, clientCredentials, password, refreshToken, tokenExchange, deviceCode].map((g) => [
    g.grantType,
    g,
  ]),
)
export type { Grant, GrantRequest, TokenResponse } from './types.js'
