// GET/POST /oauth/logout (OpenID Connect RP-Initiated Logout 1.0): an ID token we issued names the session to end;
// it ends at once, and the browser goes back to an exactly registered post_logout_redirect_uri with its state.
import formbody from '@fastify/formbody'
import { idTokenCheck, TollgateTokenError } from '@tollgate/shared'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { parseForm } from '../params.js'
import { htmlErrorHandler } from '../plugins/error-handler.js'
import { keystoreKeys } from '../tokens/verify-access.js'
import { logoutErrorPage, STYLE_HASH, signedOutPage } from '../views/login-page.js'

/** How old an `id_token_hint` may be: the spec asks OPs to accept expired ones; no session outlives this. */
const HINT_MAX_AGE_SEC = 30 * 24 * 3600

const PARAMS = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state', 'ui_locales', 'logout_hint'] as const
type LogoutParams = Partial<Record<(typeof PARAMS)[number], string>>

class LogoutError extends Error {}

const page = (reply: FastifyReply, status: number, body: string) =>
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      `default-src 'none'; style-src ${STYLE_HASH}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .send(body)

function paramsOf(request: FastifyRequest): LogoutParams {
  const source = (request.method === 'POST' ? request.body : request.query) as Record<string, unknown> | undefined
  const out: LogoutParams = {}
  for (const name of PARAMS) {
    const value = source?.[name]
    if (value === undefined || value === '') continue
    if (typeof value !== 'string' || value.length > 8192) throw new LogoutError(`"${name}" must be given once`)
    out[name] = value
  }
  return out
}

const schema = {
  summary: 'OpenID Connect RP-Initiated Logout (end_session_endpoint)',
  tags: ['oidc'],
  querystring: {
    type: 'object',
    properties: Object.fromEntries(PARAMS.map((name) => [name, { type: 'string', maxLength: 8192 }])),
  },
  produces: ['text/html'],
} as const

export const logoutRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.removeAllContentTypeParsers()
  await app.register(formbody, { bodyLimit: 16 * 1024, parser: parseForm })
  // A malformed request (a parameter too long, a bad escape, a JSON body) is a sign-out error page, in words.
  app.setErrorHandler(
    htmlErrorHandler(ctx.log, (reply, status, message) => page(reply, status, logoutErrorPage(message))),
  )

  /**
   * The claims of an ID token this server signed (expired ones included, within the bound), read by the one token
   * core with the same claim types and ranges as every access token; else a LogoutError.
   */
  const checkHint = idTokenCheck({
    issuer: ctx.config.issuer,
    keys: keystoreKeys(ctx.keystore),
    now: ctx.now,
    expiredGraceSec: HINT_MAX_AGE_SEC,
  })
  const idTokenClaims = async (hint: string) => {
    try {
      const { claims } = await checkHint(hint)
      if (typeof claims.aud !== 'string') throw new LogoutError('bad claims')
      return { sub: claims.sub, clientId: claims.aud, sid: claims.sid }
    } catch (err) {
      if (!(err instanceof TollgateTokenError) && !(err instanceof LogoutError)) throw err
      throw new LogoutError('The sign-out request carries an ID token this server did not issue, or one too old.')
    }
  }

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const params = paramsOf(request)
      if (!params.id_token_hint) throw new LogoutError('The sign-out request does not say which sign-in to end.')
      const hint = await idTokenClaims(params.id_token_hint)
      if (params.client_id !== undefined && params.client_id !== hint.clientId) {
        throw new LogoutError('The sign-out request names another application than its ID token.')
      }
      const client = await ctx.clients.get(hint.clientId)
      if (!client) throw new LogoutError('The application of this sign-in is no longer registered.')
      const target = params.post_logout_redirect_uri
      if (target !== undefined && !(client.postLogoutRedirectUris ?? []).includes(target)) {
        throw new LogoutError('The address to return to after signing out is not registered for this application.')
      }
      // End that session now (no confirmation page: the hint is proof enough that the app asked for it).
      if (hint.sid !== undefined) {
        await ctx.revoker.endSessionById(hint.sub, hint.sid, 'logout', (s) => s.clientId === client.clientId)
      }
      if (target === undefined) return page(reply, 200, signedOutPage(client.name ?? client.clientId))
      const url = new URL(target)
      if (params.state !== undefined) url.searchParams.set('state', params.state)
      return reply.code(303).header('cache-control', 'no-store').header('location', url.href).send()
    } catch (err) {
      if (err instanceof LogoutError) return page(reply, 400, logoutErrorPage(err.message))
      throw err
    }
  }
  app.get('/oauth/logout', { schema }, handler)
  const { querystring, ...common } = schema
  app.post(
    '/oauth/logout',
    { schema: { ...common, body: querystring, consumes: ['application/x-www-form-urlencoded'] } },
    handler,
  )
}
