// refresh_token (RFC 6749 §6): spends the presented token and returns its successor, atomically; reuse revokes the family.
import { multi, param, required } from '../params.js'
import { parseScopeParam } from '../scope.js'
import { refreshSession } from '../sessions/refresh.js'
import type { Grant } from './types.js'

export const refreshToken: Grant = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope', 'resource'],
  async handler({ body, client, ctx, request, jkt }) {
    const scope = parseScopeParam(param(body, 'scope'))
    const { sessionExpiresAt: _, ...tokens } = await refreshSession(ctx, {
      token: required(body, 'refresh_token'),
      client,
      ...(scope ? { scope } : {}),
      resources: multi(body, 'resource'),
      reqId: request.id,
      ip: request.ip,
      ...(jkt ? { jkt } : {}),
    })
    return tokens
  },
}
