// RFC 8628 §3.3 and §5.1: the verification page's checks. A person enters the user code; wrong codes from one address
// are limited like failed passwords (after 10, every code — the right one too — is refused until the lock ends).
import type { ServerContext } from '../context.js'
import { TooManyRequests } from '../errors.js'
import type { DeviceAuthorization } from '../store/types.js'
import { normalizeUserCode } from './codes.js'

/** Wrong user codes from one address before it is locked out. */
export const MAX_USER_CODE_FAILURES = 10

const keyOf = (ip: string) => `device-ip:${ip}`

/** Throws TooManyRequests while this address is locked out of entering user codes. */
export async function checkUserCodeLock(ctx: ServerContext, ip: string): Promise<void> {
  const now = ctx.now()
  const state = await ctx.store.failureState(keyOf(ip), now, ctx.config.login.windowMs)
  if (state.lockedUntil > now) {
    ctx.metrics.throttled.inc({ reason: 'user_code_locked' })
    throw new TooManyRequests((state.lockedUntil - now) / 1000, 'too many wrong codes from this address')
  }
}

/**
 * The pending authorization a typed user code names, or undefined — a wrong code counts against the address, and the
 * count reaching the limit locks it (TooManyRequests at once).
 *
 * @example
 * const authorization = await findByUserCode(ctx, form.user_code, request.ip)
 */
export async function findByUserCode(
  ctx: ServerContext,
  typed: unknown,
  ip: string,
): Promise<{ userCode: string; authorization: DeviceAuthorization } | undefined> {
  await checkUserCodeLock(ctx, ip)
  const userCode = normalizeUserCode(typed)
  const authorization = userCode === undefined ? undefined : await ctx.store.deviceByUserCode(userCode)
  if (userCode !== undefined && authorization !== undefined) return { userCode, authorization }
  const now = ctx.now()
  const { login } = ctx.config
  const state = await ctx.store.recordFailure(keyOf(ip), now, {
    windowMs: login.windowMs,
    maxFailures: MAX_USER_CODE_FAILURES,
    lockoutMs: login.lockoutMs,
  })
  if (state.lockedUntil > now) {
    ctx.metrics.lockouts.inc()
    throw new TooManyRequests((state.lockedUntil - now) / 1000, 'too many wrong codes from this address')
  }
  return undefined
}
