// Who may use the admin API: an access token of this issuer, addressed to it, with the area's admin scope, held by an
// administrator — a client whose `scopes` list it, or a user with the `admin` role — checked again on every request.
import { type AccessTokenClaims, InsufficientScopeError, InvalidTokenError } from '@tollgate/shared'
import type { FastifyRequest } from 'fastify'
import { ADMIN_ROLE, ADMIN_SCOPE, type AdminArea, allowsArea, areaScope, isAdminScope } from '../../admin/scopes.js'
import { type AuditContext, clientActor, requestContext, userActor } from '../../audit/event.js'
import type { ServerContext } from '../../context.js'
import { BearerError, bearerClaims } from '../bearer-auth.js'

export interface AdminCaller {
  readonly claims: AccessTokenClaims
  /** Who acts, for the audit log. */
  readonly by: AuditContext
  /** The admin scopes the token carries. */
  readonly scopes: readonly string[]
}

/** 403 `insufficient_scope` naming the scope needed, with a description of why. */
class AdminScopeError extends InsufficientScopeError {
  constructor(scope: string, message: string) {
    super([scope])
    this.message = message
  }
}

const schemeOf = (request: FastifyRequest) => (/^dpop /i.test(request.headers.authorization ?? '') ? 'DPoP' : 'Bearer')

const refusal = (ctx: ServerContext, request: FastifyRequest, err: InsufficientScopeError | InvalidTokenError) =>
  new BearerError(err, ctx.config.issuer, schemeOf(request))

const forbidden = (ctx: ServerContext, request: FastifyRequest, area: AdminArea, why: string) =>
  refusal(ctx, request, new AdminScopeError(areaScope(area), why))

/**
 * The administrator calling, or a BearerError: 401 without a valid token of this issuer addressed to it (`aud` is the
 * issuer), 403 `insufficient_scope` without the area's scope or when its holder is no longer an administrator.
 *
 * @example
 * const { by } = await adminCaller(ctx, request, 'clients')
 */
export async function adminCaller(ctx: ServerContext, request: FastifyRequest, area: AdminArea): Promise<AdminCaller> {
  const claims = await bearerClaims(ctx, request)
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (!audience.includes(ctx.config.issuer)) {
    throw refusal(
      ctx,
      request,
      new InvalidTokenError(
        'ERR_TOKEN_CLAIM',
        `the token is not addressed to this server (its aud must include ${ctx.config.issuer})`,
      ),
    )
  }
  const scopes = claims.scope.split(' ').filter(isAdminScope)
  if (!allowsArea(scopes, area))
    throw forbidden(ctx, request, area, `requires scope ${areaScope(area)} (or ${ADMIN_SCOPE})`)
  const forUser = claims.auth_time !== undefined && claims.sub !== claims.client_id
  if (forUser) {
    // The role is read again: an administrator demoted or disabled a moment ago is one no longer.
    const user = await ctx.store.getUser(claims.sub)
    if (!user || user.disabled || !user.roles.includes(ADMIN_ROLE)) {
      throw forbidden(ctx, request, area, 'the admin API is for administrators only')
    }
    return { claims, scopes, by: requestContext(request, userActor(user.sub, claims.client_id, user.username)) }
  }
  // A client holds admin scopes only while its registration lists them.
  const client = await ctx.clients.get(claims.client_id)
  if (!client || !scopes.some((s) => client.scopes.includes(s) && allowsArea([s], area))) {
    throw forbidden(ctx, request, area, 'this client no longer holds the admin scope')
  }
  return { claims, scopes, by: requestContext(request, clientActor(client.clientId)) }
}

/** Whether a caller may grant (or act on something holding) these admin scopes: only those it holds itself. */
export function mayHold(caller: AdminCaller, scopes: readonly string[]): string | undefined {
  if (caller.scopes.includes(ADMIN_SCOPE)) return undefined
  return scopes.find((s) => isAdminScope(s) && !caller.scopes.includes(s))
}

/** 403 for an administrator acting beyond their own admin scopes. */
export function beyondScope(ctx: ServerContext, request: FastifyRequest, scope: string, what: string): BearerError {
  return refusal(ctx, request, new AdminScopeError(scope, `${what} needs ${scope} yourself`))
}

/** For a long-lived answer (the audit stream): the token is still unrevoked and its user still an administrator. */
export async function stillAdmin(ctx: ServerContext, token: string, claims: AccessTokenClaims): Promise<boolean> {
  await ctx.accessTokens.verify(token)
  if (claims.auth_time === undefined || claims.sub === claims.client_id) return true
  const user = await ctx.store.getUser(claims.sub)
  return user !== undefined && !user.disabled && user.roles.includes(ADMIN_ROLE)
}
