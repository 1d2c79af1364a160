// Bearer authentication for the auth server's own resources (userinfo, session management), RFC 6750 answers.
import {
  type AccessTokenClaims,
  bearerChallenge,
  bearerToken,
  InsufficientScopeError,
  InvalidTokenError,
  TollgateTokenError,
} from '@tollgate/shared'
import type { FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { OAuthError } from '../errors.js'

/** An RFC 6750 refusal with its WWW-Authenticate challenge. */
export class BearerError extends OAuthError {
  constructor(err: TollgateTokenError, realm: string) {
    super(err.error ?? 'invalid_request', err.status, err.message, {
      headers: { 'www-authenticate': bearerChallenge(err, realm) },
      detail: err.code,
    })
  }
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
  ctx: Pick<ServerContext, 'config' | 'accessTokens'>,
  request: FastifyRequest,
  options: BearerOptions = {},
): Promise<AccessTokenClaims> {
  const realm = ctx.config.issuer
  try {
    const claims = await ctx.accessTokens.verify(bearerToken(request.headers.authorization))
    if (options.user && (claims.auth_time === undefined || claims.sub === claims.client_id)) {
      throw new InvalidTokenError('ERR_TOKEN_CLAIM', 'a user access token is required')
    }
    if (options.scope && !claims.scope.split(' ').includes(options.scope))
      throw new InsufficientScopeError([options.scope])
    return claims
  } catch (err) {
    if (err instanceof TollgateTokenError) throw new BearerError(err, realm)
    throw err
  }
}
