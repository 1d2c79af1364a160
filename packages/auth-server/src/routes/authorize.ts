// GET/POST /oauth/authorize: authorization code + PKCE with a server-rendered sign-in page.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import formbody from '@fastify/formbody'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { CODE_TTL_MS, hashCode, newCode } from '../authorize/code.js'
import { parRequired, takePushedParams } from '../authorize/par.js'
import {
  type AuthorizationRequest,
  AuthorizePageError,
  AuthorizeRedirectError,
  parseAuthorizationRequest,
  redirectTo,
} from '../authorize/request.js'
import type { ServerContext } from '../context.js'
import { InvalidGrant, TooManyRequests } from '../errors.js'
import { type FormBody, parseForm } from '../params.js'
import { htmlErrorHandler } from '../plugins/error-handler.js'
import { newFamilyId } from '../tokens/refresh-token.js'
import { newJti } from '../tokens/signer.js'
import { BAD_CREDENTIALS } from '../users/authenticate.js'
import { passwordLogin } from '../users/login.js'
import { errorPage, loginPage, STYLE_HASH } from '../views/login-page.js'

const CSRF_COOKIE = 'tg_authz_csrf'
const FORM_LIMIT = 16 * 1024
/** A pushed request, once taken, rides the sign-in form sealed: long enough to type a password. */
const SEALED_REQUEST_TTL_SEC = 1_800
/** Parameters of the authorization request carried through the sign-in form. */
const CARRIED = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'dpop_jkt',
]

function csp(formTarget?: string): string {
  const formAction = ["'self'", formTarget ? new URL(formTarget).origin : ''].filter(Boolean).join(' ')
  return `default-src 'none'; style-src ${STYLE_HASH}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`
}

function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false
  return timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

const html = (reply: FastifyReply, status: number, body: string, formTarget?: string) =>
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', csp(formTarget))
    .send(body)

export const authorizeRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  // helmet's headers come from the app (plugins/security-headers); the CSP is set per page (its form-action names the
  // client).
  app.removeAllContentTypeParsers()
  await app.register(formbody, { bodyLimit: FORM_LIMIT, parser: parseForm })
  // A malformed request (a bad escape, a body too large, a JSON body) is a sign-in error page, in words.
  app.setErrorHandler(htmlErrorHandler(ctx.log, (reply, status, message) => html(reply, status, errorPage(message))))

  const secure = ctx.config.cookieSecure
  const action = `${ctx.config.baseUrl}/oauth/authorize`

  const showLogin = (
    reply: FastifyReply,
    req: AuthorizationRequest,
    params: FormBody,
    status = 200,
    error?: string,
    username?: string,
    sealed?: string,
  ) => {
    const csrf = randomBytes(24).toString('base64url')
    const hidden: Record<string, string | string[]> = { csrf }
    if (sealed !== undefined) {
      // A pushed request: the form carries it sealed, so the browser cannot change what the client pushed.
      hidden.request = sealed
    } else {
      for (const name of CARRIED) {
        const value = params[name]
        if (value !== undefined) hidden[name] = value
      }
    }
    reply.setCookie(CSRF_COOKIE, csrf, {
      path: '/oauth/authorize',
      httpOnly: true,
      sameSite: 'strict',
      secure,
      maxAge: 1800,
    })
    return html(
      reply,
      status,
      loginPage({
        clientName: req.client.name ?? req.client.clientId,
        action,
        hidden,
        ...(error ? { error } : {}),
        ...(username ? { username } : {}),
      }),
      req.redirectUri,
    )
  }

  const handleError = (reply: FastifyReply, err: unknown) => {
    if (err instanceof AuthorizePageError) return html(reply, 400, errorPage(err.message))
    if (err instanceof AuthorizeRedirectError) {
      const location = redirectTo(
        err.redirectUri,
        { error: err.error, error_description: err.message, state: err.state },
        ctx.config.issuer,
      )
      return reply.code(303).header('cache-control', 'no-store').redirect(location, 303)
    }
    throw err
  }

  // Parameters are documented, not typed: every mistake in them must reach the handler, which answers with an
  // error page or an error redirect (RFC 6749 §4.1.2.1), never a JSON validation error.
  const param = (description: string) => ({ description })
  const authorizeParams = {
    response_type: param('must be `code`'),
    client_id: param('the client'),
    redirect_uri: param('exactly one of the client’s registered redirect URIs'),
    scope: param('space-separated; `openid` for an ID token'),
    state: param('returned unchanged'),
    code_challenge: param('PKCE S256 challenge (RFC 7636); required for public clients'),
    code_challenge_method: param('must be `S256`'),
    nonce: param('echoed in the ID token'),
    resource: param('RFC 8707 resource indicator (the audience)'),
    dpop_jkt: param('RFC 9449 §10: the thumbprint of the DPoP key that must redeem the code'),
    request_uri: param('RFC 9126: a request_uri from the pushed authorization request endpoint (with client_id)'),
  }
  const htmlPage = { type: 'string', description: 'an HTML page' }
  const redirect = { type: 'null', description: 'to redirect_uri with `code`, `state`, `iss` (or `error`)' }
  const schema = {
    summary: 'Authorization endpoint (code + PKCE S256)',
    tags: ['oauth'],
    produces: ['text/html'],
    querystring: { type: 'object', properties: authorizeParams },
    response: { 200: { ...htmlPage, description: 'the sign-in page' }, 303: redirect, 400: htmlPage },
  }
  const postSchema = {
    summary: 'Sign-in form submission of the authorization endpoint',
    tags: ['oauth'],
    produces: ['text/html'],
    consumes: ['application/x-www-form-urlencoded'],
    body: {
      type: 'object',
      properties: {
        ...authorizeParams,
        username: param('the user'),
        password: param('the password'),
        csrf: param('the form’s anti-forgery token'),
        request: param(
          'a pushed authorization request, sealed by the server, when the sign-in began with a request_uri',
        ),
      },
    },
    response: { 303: redirect, 400: htmlPage, 401: htmlPage, 403: htmlPage, 429: htmlPage },
  }

  /** A request that should have been pushed (PAR required for the server or the client) goes back with an error. */
  const requirePushed = (req: AuthorizationRequest, pushed: boolean) => {
    if (!pushed && parRequired(ctx, req.client)) {
      throw new AuthorizeRedirectError(
        req.redirectUri,
        'invalid_request',
        'this client must push its authorization requests first (pushed_authorization_request_endpoint, RFC 9126)',
        req.state,
      )
    }
  }

  app.get('/oauth/authorize', { schema }, async (request, reply) => {
    const query = request.query as FormBody
    const pushed = query.request_uri !== undefined
    let params = query
    let req: AuthorizationRequest
    try {
      // RFC 9126 §4: with a request_uri, the pushed parameters are the request; anything else in the query is ignored.
      if (pushed) params = await takePushedParams(ctx, query)
      req = await parseAuthorizationRequest(ctx, params)
      requirePushed(req, pushed)
    } catch (err) {
      return handleError(reply, err)
    }
    const sealed = pushed ? ctx.seals.seal('pushed-request', params, SEALED_REQUEST_TTL_SEC) : undefined
    return showLogin(reply, req, params, 200, undefined, undefined, sealed)
  })

  app.post(
    '/oauth/authorize',
    { schema: postSchema },

    async (request, reply) => {
      const form = (request.body ?? {}) as FormBody
      const sealed = typeof form.request === 'string' ? form.request : undefined
      const pushedParams = sealed === undefined ? undefined : ctx.seals.open<FormBody>('pushed-request', sealed)
      if (sealed !== undefined && pushedParams === undefined) {
        return html(reply, 400, errorPage('This sign-in form has expired. Start again from the app.'))
      }
      const params = pushedParams ?? form
      let req: AuthorizationRequest
      try {
        req = await parseAuthorizationRequest(ctx, params)
        requirePushed(req, pushedParams !== undefined)
      } catch (err) {
        return handleError(reply, err)
      }
      const csrf = typeof form.csrf === 'string' ? form.csrf : undefined
      if (!sameSecret(csrf, request.cookies[CSRF_COOKIE])) {
        return html(reply, 403, errorPage('This sign-in form has expired or was not sent from this site.'))
      }
      const username = typeof form.username === 'string' ? form.username : ''
      const password = typeof form.password === 'string' ? form.password : ''
      let user: Awaited<ReturnType<typeof passwordLogin>>
      try {
        user = await passwordLogin(ctx, username, password, request.ip)
      } catch (err) {
        if (err instanceof TooManyRequests) {
          const wait = err.headers['retry-after'] ?? '60'
          reply.header('retry-after', wait)
          const message = `Too many failed attempts. Try again in ${wait} seconds.`
          return showLogin(reply, req, params, 429, message, username.slice(0, 128), sealed)
        }
        if (!(err instanceof InvalidGrant)) throw err
        const message = BAD_CREDENTIALS.replace(/^./, (c) => c.toUpperCase())
        return showLogin(reply, req, params, 401, message, username.slice(0, 128), sealed)
      }
      const code = newCode()
      await ctx.store.putCode(
        hashCode(code),
        {
          clientId: req.client.clientId,
          redirectUri: req.redirectUri,
          codeChallenge: req.codeChallenge,
          scope: req.scope,
          audience: req.audience,
          sub: user.sub,
          authTime: Math.floor(ctx.now() / 1000),
          fid: newFamilyId(),
          jti: newJti(),
          ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
          ...(req.dpopJkt === undefined ? {} : { dpopJkt: req.dpopJkt }),
        },
        ctx.now() + CODE_TTL_MS,
      )
      reply.clearCookie(CSRF_COOKIE, { path: '/oauth/authorize' })
      return reply
        .header('cache-control', 'no-store')
        .redirect(redirectTo(req.redirectUri, { code, state: req.state }, ctx.config.issuer), 303)
    },
  )
}
