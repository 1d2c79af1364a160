// POST /session/login, /session/refresh, /session/logout: first-party browser sessions with the refresh token in an HttpOnly cookie.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { requestContext, userActor } from '../../audit/event.js'
import type { ServerContext } from '../../context.js'
import { InvalidClient, InvalidGrant, OAuthError, UnauthorizedClient } from '../../errors.js'
import { cookieName, cookieOptions, decodeSessionCookie, encodeSessionCookie } from '../../sessions/cookie.js'
import { signInWithPassword } from '../../sessions/password-login.js'
import { refreshSession } from '../../sessions/refresh.js'
import { parseRefreshToken } from '../../tokens/refresh-token.js'
import { errorResponses } from '../schemas.js'
import { allowClientOrigin, allowOrigin, requireAllowedOrigin } from './origin.js'

const tokens = {
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
    scope: { type: 'string' },
    id_token: { type: 'string' },
  },
  required: ['access_token', 'token_type', 'expires_in', 'scope'],
} as const

const loginSchema = {
  summary: 'Sign in from a first-party web app; sets the session cookie',
  tags: ['session'],
  body: {
    type: 'object',
    properties: {
      client_id: { type: 'string', minLength: 1, maxLength: 128 },
      username: { type: 'string', minLength: 1, maxLength: 256 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
      scope: { type: 'string', maxLength: 4096 },
    },
    required: ['client_id', 'username', 'password'],
    additionalProperties: false,
  },
  response: { 200: tokens, ...errorResponses },
} as const

const cookieSchema = (summary: string, ok: object) => ({
  summary,
  tags: ['session'],
  response: { ...ok, ...errorResponses },
})

export const browserSessionRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const secure = ctx.config.cookieSecure
  const name = cookieName(secure)

  const setSession = (reply: FastifyReply, clientId: string, token: string, expiresAt: number) =>
    reply.setCookie(name, encodeSessionCookie(clientId, token), cookieOptions(secure, (expiresAt - ctx.now()) / 1000))
  const clearSession = (reply: FastifyReply) => reply.clearCookie(name, cookieOptions(secure))

  const sessionClient = async (request: FastifyRequest) => {
    const cookie = decodeSessionCookie(request.cookies[name])
    if (!cookie) return undefined
    const client = await ctx.clients.get(cookie.clientId)
    return client ? { ...cookie, client } : undefined
  }

  /** An answer that names no client (no session, an unknown client) reveals nothing: any client's page may read it. */
  const allowAnyClientOrigin = async (request: FastifyRequest, reply: FastifyReply) => {
    const { origin } = request.headers
    if (origin !== undefined && (await ctx.origins.has(origin))) allowOrigin(reply, origin)
  }

  app.post('/session/login', { schema: loginSchema }, async (request, reply) => {
    const body = request.body as { client_id: string; username: string; password: string; scope?: string }
    const client = await ctx.clients.get(body.client_id)
    if (!client) {
      await allowAnyClientOrigin(request, reply)
      throw new InvalidClient('unknown client')
    }
    requireAllowedOrigin(request.headers.origin, client)
    allowClientOrigin(request, reply, client)
    if (!client.grantTypes.includes('password'))
      throw new UnauthorizedClient('this client may not sign users in directly')
    // A browser session with a DPoP proof is bound to the page's key: its cookie refreshes only with that key.
    const proof = await ctx.dpop.check(request, '/session/login')
    const { refresh_token, sessionExpiresAt, ...rest } = await signInWithPassword(ctx, {
      client,
      ...(proof ? { jkt: proof.jkt, bindSession: true } : {}),
      username: body.username,
      password: body.password,
      scope: body.scope,
      ip: request.ip,
      requestId: request.id,
      method: 'session',
      userAgent: request.headers['user-agent'],
    })
    if (refresh_token && sessionExpiresAt) setSession(reply, client.clientId, refresh_token, sessionExpiresAt)
    ctx.metrics.tokensIssued.inc({ grant: 'session_login', client_id: client.clientId })
    ctx.dpop.offerNonce(reply)
    return reply.header('cache-control', 'no-store').send(rest)
  })

  app.post(
    '/session/refresh',
    { schema: cookieSchema('Rotate the session cookie and get a new access token', { 200: tokens }) },
    async (request, reply) => {
      const session = await sessionClient(request)
      if (!session) {
        await allowAnyClientOrigin(request, reply)
        clearSession(reply)
        throw new InvalidGrant('no session')
      }
      requireAllowedOrigin(request.headers.origin, session.client)
      allowClientOrigin(request, reply, session.client)
      try {
        const proof = await ctx.dpop.check(request, '/session/refresh')
        const { refresh_token, sessionExpiresAt, ...rest } = await refreshSession(ctx, {
          token: session.token,
          client: session.client,
          reqId: request.id,
          ip: request.ip,
          ...(proof ? { jkt: proof.jkt } : {}),
        })
        ctx.dpop.offerNonce(reply)
        setSession(reply, session.client.clientId, refresh_token, sessionExpiresAt)
        return reply.header('cache-control', 'no-store').send(rest)
      } catch (err) {
        // A dead session's cookie is useless: drop it. Anything else (store down, a proof to redo) leaves it.
        if (err instanceof OAuthError && err.code === 'invalid_grant') clearSession(reply)
        throw err
      }
    },
  )

  app.post(
    '/session/logout',
    { schema: cookieSchema('End this browser session', { 204: { type: 'null' } }) },
    async (request, reply) => {
      const session = await sessionClient(request)
      if (session) {
        requireAllowedOrigin(request.headers.origin, session.client)
        allowClientOrigin(request, reply, session.client)
        const parsed = parseRefreshToken(session.token)
        if (parsed) {
          await ctx.revoker.endSession(
            parsed.sub,
            parsed.fid,
            'logout',
            requestContext(request, userActor(parsed.sub, session.client.clientId)),
          )
        }
      } else {
        await allowAnyClientOrigin(request, reply)
      }
      clearSession(reply)
      return reply.code(204).header('cache-control', 'no-store').send()
    },
  )
}
