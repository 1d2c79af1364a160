// Bearer authentication for the auth server's own resources (userinfo, session management), RFC 6750 answers.
import {
  type AccessTokenClaims,
  bearerToken,
  challenges,
  DPOP_ALGORITHMS,
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidTokenError,
  TollgateTokenError,
  UseDpopNonceError,
} from '@tollgate/shared'
import type { FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { OAuthError } from '../errors.js'

/** An RFC 6750 / RFC 9449 §7.1 refusal with its WWW-Authenticate challenges (and the nonce to use, if any). */
export class BearerError extends OAuthError {
  constructor(err: TollgateTokenError, realm: string, scheme: 'Bearer' | 'DPoP' = 'Bearer') {
    super(err.error ?? 'invalid_request', err.status, err.message, {
      headers: {
        'www-authenticate': challenges(err, realm, DPOP_ALGORITHMS, scheme).join(', '),
        ...(err instanceof UseDpopNonceError ? { 'dpop-nonce': err.nonce } : {}),
      },
      detail: err.code,
    })
  }
}

/**
 * The request's access token, checked as it was presented: `Bearer` (refused when the token is DPoP-bound), or
 * `DPoP` with a proof for this URL by the key the token is bound to.
 */
async function presentedToken(
  ctx: Pick<ServerContext, 'accessTokens' | 'dpop'>,
  request: FastifyRequest,
  scheme: 'Bearer' | 'DPoP',
): Promise<AccessTokenClaims> {
  const header = request.headers.authorization
  if (scheme === 'Bearer') {
    const claims = await ctx.accessTokens.verify(bearerToken(header))
    if (claims.cnf) throw new InvalidTokenError('ERR_TOKEN_DPOP_BOUND', 'the token is DPoP-bound: send it as DPoP')
    return claims
  }
  const token = (header as string).slice(5).trim()
  const path = request.url.split('?')[0] as string
  const proof = await ctx.dpop.verify(request, path, token)
  if (!proof) throw new InvalidDpopProofError('no DPoP proof')
  const claims = await ctx.accessTokens.verify(token)
  if (!claims.cnf) throw new InvalidTokenError('ERR_TOKEN_CLAIM', 'the token is not DPoP-bound')
  if (claims.cnf.jkt !== proof.jkt) throw new InvalidDpopProofError('the DPoP proof is by another key than the token')
  return claims
}

export interface BearerOptions {
  /** Refuse service tokens (client_credentials): these endpoints act for a user. */
  readonly user?: boolean
  readonly scope?: string
}

/**
 * The claims of the request's bearer token, when it is an unexpired, unrevoked access token of this server;
 * otherwise throws BearerError.
 */
export async function bearerClaims(
  ctx: Pick<ServerContext, 'config' | 'accessTokens' | 'dpop'>,
  request: FastifyRequest,
  options: BearerOptions = {},
): Promise<AccessTokenClaims> {
  const realm = ctx.config.issuer
  const scheme = /^dpop /i.test(request.headers.authorization ?? '') ? 'DPoP' : 'Bearer'
  try {
    const claims = await presentedToken(ctx, request, scheme)
    if (options.user && (claims.auth_time === undefined || claims.sub === claims.client_id)) {
      throw new InvalidTokenError('ERR_TOKEN_CLAIM', 'a user access token is required')
    }
    if (options.scope && !claims.scope.split(' ').includes(options.scope))
      throw new InsufficientScopeError([options.scope])
    return claims
  } catch (err) {
    if (err instanceof TollgateTokenError) throw new BearerError(err, realm, scheme)
    throw err
  }
}
