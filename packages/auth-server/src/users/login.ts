// A password login with brute-force protection: the one path every sign-in endpoint takes, and where sign-ins,
// failures and lockouts become audit events.
import type { AuditContext } from '../audit/event.js'
import { userActor } from '../audit/event.js'
import type { ServerContext } from '../context.js'
import { InvalidGrant, TooManyRequests } from '../errors.js'
import type { AuditTarget, UserRecord } from '../store/types.js'
import { authenticateUser } from './authenticate.js'

/** Where a sign-in happened, for its audit event. */
export interface SignInContext {
  readonly requestId?: string
  /** The client the user signs in to. */
  readonly clientId?: string
  /** `password` (the grant), `session` (browser login), `authorize` (the sign-in page). */
  readonly method?: string
}

/**
 * The user for these credentials. Throws TooManyRequests (before any password
 * work) while the account or IP is throttled, InvalidGrant for bad credentials.
 *
 * @example
 * const user = await passwordLogin(ctx, username, password, request.ip, { requestId: request.id, clientId })
 */
export async function passwordLogin(
  ctx: ServerContext,
  username: string,
  password: string,
  ip: string,
  context: SignInContext = {},
): Promise<UserRecord> {
  const details = { client_id: context.clientId, method: context.method }
  const anonymous: AuditContext = {
    actor: { type: 'anonymous' },
    ip,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  }
  try {
    await ctx.guard.checkUser(username, ip)
  } catch (err) {
    if (err instanceof TooManyRequests) {
      const target = await userTarget(ctx, username)
      ctx.audit.emit('user.sign_in_failed', anonymous, {
        outcome: 'failure',
        ...(target ? { target } : {}),
        details: { ...details, reason: 'throttled', known_user: target !== undefined },
      })
    }
    throw err
  }
  try {
    const user = await authenticateUser(ctx.store, username, password, ctx.now)
    await ctx.guard.userSucceeded(username)
    ctx.audit.emit(
      'user.signed_in',
      { ...anonymous, actor: userActor(user.sub, context.clientId, user.username) },
      { target: { type: 'user', id: user.sub, name: user.username }, details },
    )
    return user
  } catch (err) {
    if (err instanceof InvalidGrant) {
      ctx.metrics.loginFailures.inc()
      const locked = await ctx.guard.userFailed(username, ip)
      const known = await ctx.store.findUserByUsername(username).catch(() => undefined)
      const target = known ? ({ type: 'user', id: known.sub, name: known.username } as const) : undefined
      // Whether the account exists is for administrators only: the caller got the one answer for every failure.
      const reason = !known ? 'unknown_user' : known.disabled ? 'disabled' : 'bad_credentials'
      ctx.audit.emit('user.sign_in_failed', anonymous, {
        outcome: 'failure',
        ...(target ? { target } : {}),
        details: { ...details, reason, known_user: known !== undefined },
      })
      if (locked.account) {
        ctx.audit.emit('user.locked_out', anonymous, {
          ...(target ? { target } : {}),
          details: { known_user: known !== undefined, until: new Date(locked.account).toISOString() },
        })
      }
      if (locked.ip) {
        ctx.audit.emit('address.locked_out', anonymous, {
          target: { type: 'address', id: ip },
          details: { until: new Date(locked.ip).toISOString() },
        })
      }
    }
    throw err
  }
}

/** The user a username names, as an audit target (none for a username nobody has: it is not recorded). */
async function userTarget(ctx: ServerContext, username: string): Promise<AuditTarget | undefined> {
  const user = username.length <= 256 ? await ctx.store.findUserByUsername(username).catch(() => undefined) : undefined
  return user ? { type: 'user', id: user.sub, name: user.username } : undefined
}
