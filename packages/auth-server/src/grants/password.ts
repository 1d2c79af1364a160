// password (RFC 6749 §4.3): first-party clients exchange a user's credentials for tokens.
import { multi, param, required } from '../params.js'
import { signInWithPassword } from '../sessions/password-login.js'
import type { Grant } from './types.js'

export const password: Grant = {
  grantType: 'password',
  parameters: ['username', 'password', 'scope', 'resource'],
  async handler({ body, client, ctx, request, jkt }) {
    const { sessionExpiresAt: _, ...tokens } = await signInWithPassword(ctx, {
      client,
      username: required(body, 'username'),
      password: required(body, 'password'),
      scope: param(body, 'scope'),
      resources: multi(body, 'resource'),
      ip: request.ip,
      requestId: request.id,
      method: 'password',
      userAgent: request.headers['user-agent'],
      ...(jkt ? { jkt } : {}),
    })
    return tokens
  },
}
