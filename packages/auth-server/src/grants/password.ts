// password (RFC 6749 §4.3): first-party clients exchange a user's credentials for tokens.
import { multi, param, required } from '../params.js'
import { grantScopes, parseScopeParam, pickAudience } from '../scope.js'
import { issueUserTokens } from '../sessions/issue.js'
import { passwordLogin } from '../users/login.js'
import type { Grant } from './types.js'

export const password: Grant = {
  grantType: 'password',
  parameters: ['username', 'password', 'scope', 'resource'],
  async handler({ body, client, ctx, request }) {
    const username = required(body, 'username')
    const secret = required(body, 'password')
    const scope = grantScopes(parseScopeParam(param(body, 'scope')), client.scopes)
    const audience = pickAudience(multi(body, 'resource'), client)
    const user = await passwordLogin(ctx, username, secret, request.ip)

    const { sessionExpiresAt: _, ...tokens } = await issueUserTokens(ctx, {
      user,
      client,
      scope,
      audience,
      authTime: Math.floor(ctx.now() / 1000),
      userAgent: request.headers['user-agent'],
      withSession: client.grantTypes.includes('refresh_token'),
    })
    return tokens
  },
}
