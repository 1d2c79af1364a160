// RFC 8628 §3.1–3.2: a device asks for authorization; it gets a device code to poll with and a user code for a person
// to enter at the verification page, both alive for DEVICE_CODE_TTL.
import type { ServerContext } from '../context.js'
import type { FormBody } from '../params.js'
import { multi, param } from '../params.js'
import { grantScopes, parseScopeParam, pickAudience } from '../scope.js'
import type { ClientRecord } from '../store/types.js'
import { displayUserCode, hashDeviceCode, newDeviceCode, newUserCode } from './codes.js'

export interface DeviceAuthorizationResponse {
  device_code: string
  user_code: string
  verification_uri: string
  verification_uri_complete: string
  expires_in: number
  interval: number
}

/** The verification page's URL. */
export const verificationUri = (ctx: Pick<ServerContext, 'config'>): string => `${ctx.config.baseUrl}/device`

/**
 * Starts a device authorization for an authenticated client (which has the device grant): the requested scope and
 * resource are checked now, as at the token endpoint, so the user approves exactly what will be issued.
 *
 * @example
 * const answer = await startDeviceAuthorization(ctx, client, body)
 */
export async function startDeviceAuthorization(
  ctx: ServerContext,
  client: ClientRecord,
  body: FormBody,
): Promise<DeviceAuthorizationResponse> {
  const scope = grantScopes(parseScopeParam(param(body, 'scope')), client.scopes)
  const audience = pickAudience(multi(body, 'resource'), client)
  const ttl = ctx.config.deviceCodeTtl
  const interval = ctx.config.devicePollInterval
  const deviceCode = newDeviceCode()
  const now = ctx.now()
  const expiresAt = now + ttl * 1000
  // 20^8 codes: a clash with a live one is rare; a few tries make it vanishingly so.
  for (let attempt = 0; attempt < 5; attempt++) {
    const userCode = newUserCode()
    const created = await ctx.store.createDeviceAuthorization(
      hashDeviceCode(deviceCode),
      { clientId: client.clientId, scope, audience, userCode, expiresAt, intervalSec: interval },
      // Kept as long again, so a late poll hears expired_token rather than invalid_grant.
      expiresAt + ttl * 1000,
    )
    if (!created) continue
    const shown = displayUserCode(userCode)
    const uri = verificationUri(ctx)
    return {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: uri,
      verification_uri_complete: `${uri}?user_code=${shown}`,
      expires_in: ttl,
      interval,
    }
  }
  throw new Error('could not find a free user code')
}
