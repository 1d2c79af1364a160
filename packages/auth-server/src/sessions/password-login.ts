// A sign-in with username and password that ends in tokens: the password grant and POST /session/login.
import type { ServerContext } from '../context.js'
import { UnauthorizedClient } from '../errors.js'
import { isFapi2 } from '../profile/fapi2.js'
import { grantScopes, parseScopeParam, pickAudience } from '../scope.js'
import type { ClientRecord } from '../store/types.js'
import { passwordLogin } from '../users/login.js'
import { issueUserTokens, type UserTokens } from './issue.js'

export interface PasswordSignIn {
  readonly client: ClientRecord
  readonly username: string
  readonly password: string
  /** The `scope` parameter as sent (absent: everything the client may have). */
  readonly scope: string | undefined
  /** RFC 8707 `resource` values (none: the client's default audience). */
  readonly resources?: readonly string[]
  readonly ip: string
  /** For the sign-in's audit event. */
  readonly requestId?: string
  /** `password` (the grant) or `session` (browser login). */
  readonly method?: string
  readonly userAgent: string | undefined
  /** The request's DPoP key: the access token is bound to it, and so is the session of a public client. */
  readonly jkt?: string
  /** Bind the session to `jkt` even for a confidential client (browser sessions). */
  readonly bindSession?: boolean
}

/**
 * Checks the scope and audience before any password work, authenticates the user (brute-force limits included),
 * then issues the user's tokens, with a session when the client may refresh.
 *
 * @example
 * const tokens = await signInWithPassword(ctx, { client, username, password, scope, ip: request.ip, userAgent })
 */
export async function signInWithPassword(ctx: ServerContext, input: PasswordSignIn): Promise<UserTokens> {
  // FAPI 2.0 §5.3.2.2: no resource owner password credentials (the browser session login is one too).
  if (isFapi2(ctx.config)) {
    throw new UnauthorizedClient('password sign-in is not available under the FAPI 2.0 profile: use the code flow')
  }
  const scope = grantScopes(parseScopeParam(input.scope), input.client.scopes)
  const audience = pickAudience(input.resources ?? [], input.client)
  const user = await passwordLogin(ctx, input.username, input.password, input.ip, {
    clientId: input.client.clientId,
    ...(input.requestId ? { requestId: input.requestId } : {}),
    ...(input.method ? { method: input.method } : {}),
  })
  return issueUserTokens(ctx, {
    user,
    client: input.client,
    scope,
    audience,
    authTime: Math.floor(ctx.now() / 1000),
    userAgent: input.userAgent,
    withSession: input.client.grantTypes.includes('refresh_token'),
    ...(input.jkt ? { jkt: input.jkt, bindSession: input.bindSession ?? input.client.public } : {}),
  })
}
