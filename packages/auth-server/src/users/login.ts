// A password login with brute-force protection: the one path every sign-in endpoint takes.
import type { ServerContext } from '../context.js'
import { InvalidGrant } from '../errors.js'
import type { UserRecord } from '../store/types.js'
import { authenticateUser } from './authenticate.js'

/**
 * The user for these credentials. Throws TooManyRequests (before any password
 * work) while the account or IP is throttled, InvalidGrant for bad credentials.
 *
 * @example
 * const user = await passwordLogin(ctx, username, password, request.ip)
 */
export async function passwordLogin(
  ctx: ServerContext,
  username: string,
  password: string,
  ip: string,
): Promise<UserRecord> {
  await ctx.guard.checkUser(username, ip)
  try {
    const user = await authenticateUser(ctx.store, username, password, ctx.now)
    await ctx.guard.userSucceeded(username)
    return user
  } catch (err) {
    if (err instanceof InvalidGrant) {
      ctx.metrics.loginFailures.inc()
      await ctx.guard.userFailed(username, ip)
    }
    throw err
  }
}
