// Tokens for an authenticated user: the session (when the client may refresh), the access token, the ID token.
import { userScope } from '../admin/scopes.js'
import type { ServerContext } from '../context.js'
import type { ClientRecord, UserRecord } from '../store/types.js'
import { newFamilyId, sessionId } from '../tokens/refresh-token.js'
import { type TokenResponse, tokenType } from '../tokens/token-response.js'
import { startSession } from './start.js'

export interface UserTokenRequest {
  readonly user: UserRecord
  readonly client: ClientRecord
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  /** Seconds since the epoch. */
  readonly authTime: number
  readonly userAgent: string | undefined
  /** Start a refresh-token session (password grant, code grant, browser login). */
  readonly withSession: boolean
  readonly nonce?: string
  /** Pre-chosen ids, so a reused authorization code can revoke exactly what it issued. */
  readonly fid?: string
  readonly jti?: string
  /** The request's DPoP key: the access token is bound to it (`cnf.jkt`). */
  readonly jkt?: string
  /** Bind the session's refresh tokens to `jkt` too (public clients and browsers, RFC 9449 §5). */
  readonly bindSession?: boolean
}

export interface UserTokens extends TokenResponse {
  /** When the session (if any) expires, epoch ms. */
  readonly sessionExpiresAt?: number
}

/**
 * The session is stored before any token is signed: if the store is down,
 * nothing is handed out.
 */
export async function issueUserTokens(ctx: ServerContext, given: UserTokenRequest): Promise<UserTokens> {
  // Admin scopes go only to administrators, whatever the client may ask for.
  const req = { ...given, scope: userScope(given.scope, given.user.roles) }
  // Every sign-in has a session id, with or without a refresh-token family behind it: its tokens carry it as `sid`.
  const fid = req.fid ?? newFamilyId()
  const sid = sessionId(fid)
  let refresh: { token: string; expiresAt: number } | undefined
  if (req.withSession) {
    refresh = await startSession(ctx, {
      sub: req.user.sub,
      client: req.client,
      scope: req.scope,
      audience: req.audience,
      authTime: req.authTime,
      userAgent: req.userAgent,
      fid,
      ...(req.jkt && (req.bindSession ?? req.client.public) ? { jkt: req.jkt } : {}),
    })
  }
  const issued = await ctx.signer.accessToken(
    {
      sub: req.user.sub,
      clientId: req.client.clientId,
      scope: req.scope,
      audience: req.audience,
      authTime: req.authTime,
      roles: req.user.roles,
      sid,
      ...(req.jkt ? { jkt: req.jkt } : {}),
    },
    undefined,
    req.jti,
  )
  const response: TokenResponse = {
    access_token: issued.token,
    token_type: tokenType(req.jkt),
    expires_in: issued.expiresIn,
    scope: req.scope.join(' '),
  }
  if (refresh) response.refresh_token = refresh.token
  if (req.scope.includes('openid')) {
    response.id_token = await ctx.signer.idToken({
      user: req.user,
      clientId: req.client.clientId,
      scope: req.scope,
      authTime: req.authTime,
      sid,
      ...(req.client.idTokenSignedResponseAlg ? { alg: req.client.idTokenSignedResponseAlg } : {}),
      ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
    })
  }
  return refresh ? { ...response, sessionExpiresAt: refresh.expiresAt } : response
}
