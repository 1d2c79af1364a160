// Starting a session at login: a new refresh-token family, stored (as a hash) before the token is handed out.
import type { ServerContext } from '../context.js'
import type { ClientRecord } from '../store/types.js'
import { hashRefreshToken, newRefreshToken, sessionId } from '../tokens/refresh-token.js'
import { describeUserAgent } from './user-agent.js'

export interface SessionStart {
  readonly sub: string
  readonly client: ClientRecord
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  /** Seconds since the epoch. */
  readonly authTime: number
  readonly userAgent: string | undefined
  /** A family id chosen in advance (authorization codes record it before the exchange). */
  readonly fid?: string
  /** Bind the session to this DPoP key. */
  readonly jkt?: string
}

/**
 * Creates the family and returns its first refresh token. Resolves only after
 * the store has accepted it, so a client never holds a token the store lacks.
 */
export async function startSession(
  ctx: ServerContext,
  start: SessionStart,
): Promise<{ token: string; expiresAt: number }> {
  const refresh = newRefreshToken(start.sub, start.fid)
  const now = ctx.now()
  const userAgent = describeUserAgent(start.userAgent)
  const expiresAt = await ctx.store.createSession({
    sub: start.sub,
    fid: refresh.fid,
    sid: sessionId(refresh.fid),
    tokenHash: hashRefreshToken(refresh.token),
    clientId: start.client.clientId,
    scope: start.scope,
    audience: start.audience,
    authTime: start.authTime,
    now,
    idleTtlMs: ctx.config.refreshIdleTtl * 1000,
    absoluteTtlMs: ctx.config.refreshAbsoluteTtl * 1000,
    ...(userAgent ? { userAgent } : {}),
    ...(start.jkt ? { jkt: start.jkt } : {}),
  })
  ctx.metrics.sessionsStarted.inc({ client_id: start.client.clientId })
  return { token: refresh.token, expiresAt }
}
