// One refresh of a session, shared by the refresh_token grant and POST /session/refresh.

import { userScope } from '../admin/scopes.js'
import { type AuditContext, clientActor } from '../audit/event.js'
import type { ServerContext } from '../context.js'
import { InvalidGrant, InvalidScope, InvalidTarget, OAuthError } from '../errors.js'
import type { ClientRecord } from '../store/types.js'
import {
  hashRefreshToken,
  openSuccessor,
  parseRefreshToken,
  sealSuccessor,
  sessionId,
  successorOf,
} from '../tokens/refresh-token.js'
import { type TokenResponse, tokenType } from '../tokens/token-response.js'

export const INVALID_REFRESH = 'refresh token is invalid, expired or revoked'

export interface RefreshRequest {
  readonly token: string
  readonly client: ClientRecord
  /** A narrower scope for this access token. */
  readonly scope?: readonly string[]
  /** Narrower audiences (RFC 8707) for this access token. */
  readonly resources?: readonly string[]
  /** For the security event's log line and audit event. */
  readonly reqId: string
  readonly ip?: string
  /** The request's DPoP key: needed for a bound session; binds the new access token. */
  readonly jkt?: string
}

export interface Refreshed extends TokenResponse {
  refresh_token: string
  /** When the session now expires, epoch ms. */
  readonly sessionExpiresAt: number
}

/**
 * Spends the presented refresh token and returns its successor (or, within the
 * grace window, the same successor again) with a new access token. Reuse of a
 * spent token revokes the family, is logged as a security event, counted, and
 * passed to the operator's hook.
 */
export async function refreshSession(ctx: ServerContext, req: RefreshRequest): Promise<Refreshed> {
  const presented = parseRefreshToken(req.token)
  if (!presented) {
    ctx.metrics.refreshes.inc({ outcome: 'invalid' })
    throw new InvalidGrant(INVALID_REFRESH)
  }
  const successor = successorOf(presented)
  const now = ctx.now()
  const resources = req.resources ?? []
  const result = await ctx.store.rotateRefresh({
    sub: presented.sub,
    fid: presented.fid,
    presentedHash: hashRefreshToken(presented.token),
    successorHash: hashRefreshToken(successor.token),
    sealedSuccessor: sealSuccessor(presented.token, successor.secret),
    clientId: req.client.clientId,
    now,
    idleTtlMs: ctx.config.refreshIdleTtl * 1000,
    graceMs: ctx.config.refreshReuseGrace * 1000,
    ...(req.scope ? { scope: req.scope } : {}),
    ...(resources.length > 0 ? { audience: resources } : {}),
    ...(req.jkt ? { jkt: req.jkt } : {}),
  })
  ctx.metrics.refreshes.inc({ outcome: result.outcome })
  const by: AuditContext = {
    actor: clientActor(req.client.clientId),
    requestId: req.reqId,
    ...(req.ip ? { ip: req.ip } : {}),
  }

  let refresh: string
  switch (result.outcome) {
    case 'rotated':
      refresh = successor.token
      break
    case 'replay': {
      const secret = openSuccessor(presented.token, result.sealedSuccessor)
      refresh = `${presented.sub}.${presented.fid}.${secret}`
      if (!secret || hashRefreshToken(refresh) !== result.currentHash) throw new InvalidGrant(INVALID_REFRESH)
      break
    }
    case 'reuse': {
      // The script has ended the family; verifiers hear of it too, and the audit log names who presented it.
      ctx.revoker.recordLater(
        { kind: 'session', sid: sessionId(presented.fid), sub: presented.sub, reason: 'reuse' },
        by,
      )
      const event = { sub: presented.sub, clientId: result.clientId, sessionId: sessionId(presented.fid), at: now }
      ctx.log.warn(
        {
          reqId: req.reqId,
          security_event: 'refresh_token_reuse',
          sub: event.sub,
          client_id: event.clientId,
          session: event.sessionId,
        },
        'refresh token reuse detected: session revoked',
      )
      ctx.metrics.reuseDetected.inc({ client_id: result.clientId })
      try {
        Promise.resolve(ctx.hooks.onRefreshTokenReuse?.(event)).catch((err: unknown) =>
          ctx.log.error({ reqId: req.reqId, err }, 'onRefreshTokenReuse hook failed'),
        )
      } catch (err) {
        ctx.log.error({ reqId: req.reqId, err }, 'onRefreshTokenReuse hook failed')
      }
      throw new InvalidGrant(INVALID_REFRESH)
    }
    case 'wrong_key':
      // A bound refresh token without a proof by its key: refused, and nothing spent or revoked.
      throw new OAuthError('invalid_dpop_proof', 400, 'the refresh token is bound to another DPoP key')
    case 'wrong_client':
      throw new InvalidGrant('refresh token was issued to another client')
    case 'invalid_scope':
      throw new InvalidScope('scope exceeds what the session was granted')
    case 'invalid_target':
      throw new InvalidTarget('resource is not an audience of this session')
    case 'disabled':
      ctx.revoker.recordLater(
        { kind: 'session', sid: sessionId(presented.fid), sub: presented.sub, reason: 'disabled' },
        by,
      )
      throw new InvalidGrant(INVALID_REFRESH)
    default:
      throw new InvalidGrant(INVALID_REFRESH)
  }

  const { session } = result
  // A user who has lost the admin role since signing in keeps the session, not its admin scopes.
  const scope = userScope(req.scope ?? session.scope, session.user.roles)
  const issued = await ctx.signer.accessToken({
    sub: presented.sub,
    clientId: req.client.clientId,
    scope,
    audience: resources.length > 0 ? [...new Set(resources)] : session.audience,
    authTime: session.authTime,
    roles: session.user.roles,
    sid: sessionId(presented.fid),
    ...(req.jkt ? { jkt: req.jkt } : {}),
  })
  const response: Refreshed = {
    access_token: issued.token,
    token_type: tokenType(req.jkt),
    expires_in: issued.expiresIn,
    scope: scope.join(' '),
    refresh_token: refresh,
    sessionExpiresAt: session.expiresAt,
  }
  if (scope.includes('openid')) {
    response.id_token = await ctx.signer.idToken({
      user: session.user,
      clientId: req.client.clientId,
      scope,
      authTime: session.authTime,
      sid: sessionId(presented.fid),
      ...(req.client.idTokenSignedResponseAlg ? { alg: req.client.idTokenSignedResponseAlg } : {}),
    })
  }
  return response
}
