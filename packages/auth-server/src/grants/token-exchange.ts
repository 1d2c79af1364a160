// Token exchange (RFC 8693): a service that received a user's access token gets one for the next service it calls,
// on the user's behalf — addressed to that service only, never wider in scope or longer-lived than what it was given,
// and saying who is acting (`act`).

import {
  type AccessTokenClaims,
  type ActorClaim,
  actorsOf,
  MAX_ACTOR_DEPTH,
  parseScope,
  TollgateTokenError,
} from '@tollgate/shared'
import { echo } from '@tollgate/shared/service'
import { InvalidRequest, InvalidScope, InvalidTarget, UnauthorizedClient } from '../errors.js'
import { multi, param, required } from '../params.js'
import { parseScopeParam } from '../scope.js'
import { TOKEN_EXCHANGE } from '../store/types.js'
import { tokenType } from '../tokens/token-response.js'
import type { Grant, GrantRequest } from './types.js'

/** RFC 8693 §3: the one token type this server exchanges and issues. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

const audiencesOf = (claims: AccessTokenClaims): readonly string[] =>
  typeof claims.aud === 'string' ? [claims.aud] : claims.aud

/** A presented token (subject or actor) as this issuer's valid access token, or `invalid_request` saying why not. */
async function acceptable(ctx: GrantRequest['ctx'], token: string, role: string): Promise<AccessTokenClaims> {
  try {
    return await ctx.accessTokens.verify(token)
  } catch (err) {
    if (err instanceof TollgateTokenError) {
      throw new InvalidRequest(`the ${role} is not an acceptable access token: ${err.message}`, { detail: err.code })
    }
    throw err
  }
}

function tokenTypeParam(body: GrantRequest['body'], name: string): void {
  const type = required(body, name)
  if (type !== ACCESS_TOKEN_TYPE) throw new InvalidRequest(`${name} must be ${ACCESS_TOKEN_TYPE}`)
}

/** RFC 8707 / RFC 8693 §2.1: `audience` and `resource` both name the target; each must be one the client may call. */
function targetOf(body: GrantRequest['body'], allowed: readonly string[]): string[] {
  const named = [...multi(body, 'audience'), ...multi(body, 'resource')]
  if (named.length === 0) return [allowed[0] as string]
  const permitted = new Set(allowed)
  for (const target of named) {
    if (!permitted.has(target))
      throw new InvalidTarget(`"${echo(target, 100)}" is not an audience this client may exchange for`)
  }
  return [...new Set(named)]
}

export const tokenExchange: Grant = {
  grantType: TOKEN_EXCHANGE,
  parameters: [
    'subject_token',
    'subject_token_type',
    'actor_token',
    'actor_token_type',
    'audience',
    'resource',
    'scope',
    'requested_token_type',
  ],
  async handler({ body, client, ctx, jkt }) {
    const policy = client.tokenExchange
    if (client.public || policy === undefined) throw new UnauthorizedClient('this client may not exchange tokens')
    const subjectToken = required(body, 'subject_token')
    tokenTypeParam(body, 'subject_token_type')
    const requested = param(body, 'requested_token_type')
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) {
      throw new InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`)
    }
    const actorToken = param(body, 'actor_token')
    if (actorToken === undefined && param(body, 'actor_token_type') !== undefined) {
      throw new InvalidRequest('actor_token_type without actor_token')
    }
    const audience = targetOf(body, policy.audiences)
    const requestedScope = parseScopeParam(param(body, 'scope'))

    const subject = await acceptable(ctx, subjectToken, 'subject_token')
    const addressed = new Set(policy.subjectAudiences)
    if (!audiencesOf(subject).some((aud) => addressed.has(aud))) {
      throw new InvalidRequest('the subject_token is not addressed to this client')
    }
    if (actorToken !== undefined) {
      tokenTypeParam(body, 'actor_token_type')
      const actor = await acceptable(ctx, actorToken, 'actor_token')
      // The caller's own token: a service token of this very client, not someone else's.
      if (actor.client_id !== client.clientId || actor.sub !== client.clientId) {
        throw new InvalidRequest('the actor_token is not a token of the exchanging client')
      }
    }
    const act: ActorClaim =
      subject.act === undefined ? { sub: client.clientId } : { sub: client.clientId, act: subject.act }
    if (actorsOf(act).length >= MAX_ACTOR_DEPTH) throw new InvalidRequest('the delegation chain is too long')

    // Never wider than what the subject was granted, and only what this client may pass on.
    const passable = new Set(client.scopes)
    const available = [...parseScope(subject.scope)].filter((s) => passable.has(s))
    let scope = available
    if (requestedScope !== undefined) {
      const permitted = new Set(available)
      const wider = requestedScope.find((s) => !permitted.has(s))
      if (wider !== undefined)
        throw new InvalidScope(`scope "${echo(wider)}" is wider than the subject token allows this client`)
      scope = requestedScope
    }

    const now = Math.floor(ctx.now() / 1000)
    const ttl = Math.min(ctx.signer.accessTokenTtl, subject.exp - now)
    if (ttl < 1) throw new InvalidRequest('the subject_token is about to expire')
    const issued = await ctx.signer.accessToken(
      {
        sub: subject.sub,
        clientId: client.clientId,
        scope,
        audience,
        act,
        ...(subject.auth_time === undefined ? {} : { authTime: subject.auth_time }),
        ...(subject.sid === undefined ? {} : { sid: subject.sid }),
        ...(subject.roles === undefined ? {} : { roles: subject.roles }),
        ...(jkt ? { jkt } : {}),
      },
      ttl,
    )
    return {
      access_token: issued.token,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: tokenType(jkt),
      expires_in: issued.expiresIn,
      scope: scope.join(' '),
    }
  },
}
