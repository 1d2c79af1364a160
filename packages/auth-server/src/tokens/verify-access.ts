// Verifies this server's own access tokens (introspection, revocation, userinfo, session endpoints).
import type { AccessTokenClaims } from '@tollgate/shared'
import type { JWSHeaderParameters } from 'jose'
import type { ServerContext } from '../context.js'

const MAX_TOKEN_LENGTH = 8_192
let jwtVerify: typeof import('jose').jwtVerify | undefined

export interface VerifyOptions {
  /** Accept tokens whose `exp` has passed (revocation of an expired token is a no-op anyway). */
  readonly allowExpired?: boolean
  /** Also consult the access-token revocation list. Default true. */
  readonly checkRevoked?: boolean
}

/**
 * The claims of an access token this server issued and has not revoked, or
 * `undefined` for anything else. Never throws for bad input.
 */
export async function verifyOwnAccessToken(
  ctx: ServerContext,
  token: string,
  options: VerifyOptions = {},
): Promise<AccessTokenClaims | undefined> {
  if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) return undefined
  let claims: AccessTokenClaims
  try {
    // jose is loaded on first use: the token endpoint never needs it.
    jwtVerify ??= (await import('jose')).jwtVerify
    const { payload } = await jwtVerify(
      token,
      async (header: JWSHeaderParameters) => {
        const key = typeof header.kid === 'string' ? await ctx.keystore.verificationKey(header.kid) : undefined
        if (!key) throw new Error('unknown key')
        return key
      },
      {
        algorithms: ['RS256'],
        typ: 'at+jwt',
        issuer: ctx.config.issuer,
        clockTolerance: options.allowExpired ? Number.MAX_SAFE_INTEGER : 5,
        currentDate: new Date(ctx.now()),
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
      },
    )
    claims = payload as AccessTokenClaims
  } catch {
    return undefined
  }
  if (typeof claims.jti !== 'string' || typeof claims.client_id !== 'string' || typeof claims.sub !== 'string') {
    return undefined
  }
  if (options.checkRevoked !== false && (await ctx.store.isAccessTokenRevoked(claims.jti))) return undefined
  return claims
}
