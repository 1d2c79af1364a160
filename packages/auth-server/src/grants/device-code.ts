// urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4–3.5): the device polls until the user has answered on
// the verification page; an approval is redeemed once, for the user's tokens (and session, when it may refresh).
import { hashDeviceCode } from '../device/codes.js'
import { AccessDenied, AuthorizationPending, ExpiredToken, InvalidGrant, SlowDown } from '../errors.js'
import { required } from '../params.js'
import { issueUserTokens } from '../sessions/issue.js'
import { DEVICE_CODE } from '../store/types.js'
import type { Grant } from './types.js'

const INVALID = 'the device code is invalid, was already used, or belongs to another client'

export const deviceCode: Grant = {
  grantType: DEVICE_CODE,
  parameters: ['device_code'],
  async handler({ body, client, ctx, request, jkt }) {
    const poll = await ctx.store.pollDevice(hashDeviceCode(required(body, 'device_code')), client.clientId, ctx.now())
    switch (poll.outcome) {
      case 'pending':
        throw new AuthorizationPending('the user has not answered yet; poll again after the interval')
      case 'slow_down':
        throw new SlowDown(`polling too fast: wait at least ${poll.intervalSec} s between requests`)
      case 'expired':
        throw new ExpiredToken('the device code has expired; start a new device authorization')
      case 'denied':
        throw new AccessDenied('the user denied the request', { status: 400 })
      case 'invalid':
        throw new InvalidGrant(INVALID)
    }
    const user = await ctx.store.getUser(poll.sub)
    if (!user || user.disabled) throw new InvalidGrant(INVALID, { detail: 'the approving user is gone or disabled' })
    const { sessionExpiresAt: _, ...tokens } = await issueUserTokens(ctx, {
      user,
      client,
      scope: poll.authorization.scope,
      audience: poll.authorization.audience,
      authTime: poll.authTime,
      userAgent: request.headers['user-agent'],
      withSession: client.grantTypes.includes('refresh_token'),
      ...(jkt ? { jkt } : {}),
    })
    return tokens
  },
}
