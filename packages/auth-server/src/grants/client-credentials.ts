// client_credentials (RFC 6749 §4.4): a confidential client gets an access token for itself.
import { UnauthorizedClient } from '../errors.js'
import { multi, param } from '../params.js'
import { grantScopes, parseScopeParam, pickAudience } from '../scope.js'
import { tokenType } from '../tokens/token-response.js'
import type { Grant } from './types.js'

export const clientCredentials: Grant = {
  grantType: 'client_credentials',
  parameters: ['scope', 'resource'],
  async handler({ body, client, ctx, jkt }) {
    if (client.public) throw new UnauthorizedClient('public clients cannot use client_credentials')
    const scope = grantScopes(parseScopeParam(param(body, 'scope')), client.scopes)
    const audience = pickAudience(multi(body, 'resource'), client)
    const issued = await ctx.signer.accessToken({
      sub: client.clientId,
      clientId: client.clientId,
      scope,
      audience,
      ...(jkt ? { jkt } : {}),
    })
    return {
      access_token: issued.token,
      token_type: tokenType(jkt),
      expires_in: issued.expiresIn,
      scope: scope.join(' '),
    }
  },
}
