// authorization_code (RFC 6749 §4.1.3) with PKCE: a code is exchanged once; a reused code revokes what it issued.
import { clientActor, requestContext } from '../audit/event.js'
import { hashCode } from '../authorize/code.js'
import { verifyPkce } from '../authorize/pkce.js'
import { InvalidGrant, OAuthError } from '../errors.js'
import { required } from '../params.js'
import { issueUserTokens } from '../sessions/issue.js'
import type { Grant } from './types.js'

const INVALID = 'authorization code is invalid, expired or already used'

export const authorizationCode: Grant = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier'],
  async handler({ body, client, ctx, request, jkt }) {
    const code = required(body, 'code')
    const redirectUri = required(body, 'redirect_uri')
    const verifier = required(body, 'code_verifier')
    // The client is checked by the store before anything is spent: another client cannot burn this code.
    const redeemed = await ctx.store.redeemCode(hashCode(code), client.clientId, undefined, jkt)
    if (redeemed.outcome === 'wrong_key') {
      // RFC 9449 §10: the code was bound to a key (dpop_jkt) this request did not prove; nothing was spent.
      throw new OAuthError('invalid_dpop_proof', 400, 'the code is bound to another DPoP key (dpop_jkt)')
    }
    if (redeemed.outcome === 'wrong_client' || redeemed.outcome === 'invalid') {
      throw new InvalidGrant(INVALID, { detail: `authorization code ${redeemed.outcome}` })
    }
    const grant = redeemed.code
    if (redeemed.outcome === 'reused') {
      // RFC 6749 §4.1.2: a code used twice was probably stolen; revoke what the first use issued.
      const by = requestContext(request, clientActor(client.clientId))
      await ctx.revoker.revokeAccessToken(
        grant.jti,
        grant.sub,
        Math.floor(ctx.now() / 1000) + ctx.config.accessTokenTtl,
        by,
      )
      await ctx.revoker.endSession(grant.sub, grant.fid, 'code_reuse', by)
      ctx.log.warn(
        { reqId: request.id, security_event: 'authorization_code_reuse', sub: grant.sub, client_id: grant.clientId },
        'authorization code reuse: tokens it issued were revoked',
      )
      throw new InvalidGrant(INVALID)
    }
    if (grant.redirectUri !== redirectUri)
      throw new InvalidGrant('redirect_uri does not match the authorization request')
    if (!verifyPkce(verifier, grant.codeChallenge))
      throw new InvalidGrant('code_verifier does not match the code_challenge')
    const user = await ctx.store.getUser(grant.sub)
    if (!user || user.disabled) throw new InvalidGrant(INVALID)
    const { sessionExpiresAt: _, ...tokens } = await issueUserTokens(ctx, {
      user,
      client,
      scope: grant.scope,
      audience: grant.audience,
      authTime: grant.authTime,
      userAgent: request.headers['user-agent'],
      withSession: client.grantTypes.includes('refresh_token'),
      fid: grant.fid,
      jti: grant.jti,
      ...(jkt ? { jkt } : {}),
      ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
    })
    return tokens
  },
}
