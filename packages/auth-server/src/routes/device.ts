// GET/POST /device (the verification_uri, RFC 8628 §3.3): a person enters the code their device shows and signs in,
// sees which application asks for what, and allows or denies it. CSRF-protected forms; no scripts.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import formbody from '@fastify/formbody'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { displayUserCode } from '../device/codes.js'
import { findByUserCode } from '../device/verify.js'
import { InvalidGrant, TooManyRequests } from '../errors.js'
import { type FormBody, parseForm } from '../params.js'
import { htmlErrorHandler } from '../plugins/error-handler.js'
import { BAD_CREDENTIALS } from '../users/authenticate.js'
import { passwordLogin } from '../users/login.js'
import { deviceCodePage, deviceConsentPage, deviceDonePage, deviceErrorPage } from '../views/device-page.js'
import { STYLE_HASH } from '../views/login-page.js'

const CSRF_COOKIE = 'tg_device_csrf'
/** How long the consent page's decision stays valid. */
const CONSENT_TTL_SEC = 300

interface Consent {
  readonly userCode: string
  readonly sub: string
  readonly authTime: number
}

const html = (reply: FastifyReply, status: number, body: string) =>
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      `default-src 'none'; style-src ${STYLE_HASH}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    )
    .send(body)

const field = (form: FormBody, name: string): string => {
  const value = form[name]
  return typeof value === 'string' ? value : ''
}

function sameSecret(a: string, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false
  return timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

const param = (description: string) => ({ type: 'string', maxLength: 4096, description })
const htmlPage = { type: 'string', description: 'an HTML page' }

export const deviceRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.removeAllContentTypeParsers()
  await app.register(formbody, { bodyLimit: 8 * 1024, parser: parseForm })
  app.setErrorHandler(
    htmlErrorHandler(ctx.log, (reply, status, message) => html(reply, status, deviceErrorPage(message))),
  )
  const action = `${ctx.config.baseUrl}/device`
  const secure = ctx.config.cookieSecure

  /** A fresh anti-forgery token, set as a cookie and returned for the form. */
  const csrfFor = (reply: FastifyReply): string => {
    const csrf = randomBytes(24).toString('base64url')
    reply.setCookie(CSRF_COOKIE, csrf, { path: '/device', httpOnly: true, sameSite: 'strict', secure, maxAge: 1800 })
    return csrf
  }
  const forged = (request: FastifyRequest, form: FormBody) =>
    !sameSecret(field(form, 'csrf'), request.cookies[CSRF_COOKIE])
  const codePage = (
    reply: FastifyReply,
    status: number,
    form: Partial<Record<'userCode' | 'username' | 'error', string>>,
  ) =>
    html(
      reply,
      status,
      deviceCodePage({
        action,
        csrf: csrfFor(reply),
        ...(form.userCode ? { userCode: form.userCode.slice(0, 16) } : {}),
        ...(form.username ? { username: form.username.slice(0, 128) } : {}),
        ...(form.error ? { error: form.error } : {}),
      }),
    )

  app.get(
    '/device',
    {
      schema: {
        summary: 'Device verification page (RFC 8628 §3.3)',
        tags: ['oauth'],
        produces: ['text/html'],
        querystring: { type: 'object', properties: { user_code: param('prefilled from verification_uri_complete') } },
        response: { 200: htmlPage },
      },
    },
    async (request, reply) => codePage(reply, 200, { userCode: field(request.query as FormBody, 'user_code') }),
  )

  app.post(
    '/device',
    {
      schema: {
        summary: 'Device verification: the code and the user’s credentials',
        tags: ['oauth'],
        produces: ['text/html'],
        consumes: ['application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          properties: {
            user_code: param('the code'),
            username: param('the user'),
            password: param('the password'),
            csrf: param('anti-forgery token'),
          },
        },
        response: { 200: htmlPage, 400: htmlPage, 401: htmlPage, 403: htmlPage, 429: htmlPage },
      },
    },
    async (request, reply) => {
      const form = (request.body ?? {}) as FormBody
      const typed = field(form, 'user_code')
      const username = field(form, 'username')
      if (forged(request, form)) {
        return codePage(reply, 403, { userCode: typed, username, error: 'This form has expired. Please try again.' })
      }
      let found: Awaited<ReturnType<typeof findByUserCode>>
      let user: Awaited<ReturnType<typeof passwordLogin>>
      try {
        found = await findByUserCode(ctx, typed, request.ip)
        if (!found) {
          return codePage(reply, 400, {
            userCode: typed,
            username,
            error: 'That code is not valid or has expired. Check the code on your device.',
          })
        }
        user = await passwordLogin(ctx, username, field(form, 'password'), request.ip)
      } catch (err) {
        if (err instanceof TooManyRequests) {
          const wait = err.headers['retry-after'] ?? '60'
          reply.header('retry-after', wait)
          return codePage(reply, 429, {
            userCode: typed,
            username,
            error: `Too many attempts. Try again in ${wait} seconds.`,
          })
        }
        if (!(err instanceof InvalidGrant)) throw err
        return codePage(reply, 401, {
          userCode: typed,
          username,
          error: BAD_CREDENTIALS.replace(/^./, (c) => c.toUpperCase()),
        })
      }
      const client = await ctx.clients.get(found.authorization.clientId)
      const consent: Consent = { userCode: found.userCode, sub: user.sub, authTime: Math.floor(ctx.now() / 1000) }
      return html(
        reply,
        200,
        deviceConsentPage({
          action: `${action}/decision`,
          csrf: csrfFor(reply),
          consent: ctx.seals.seal('device-consent', consent, CONSENT_TTL_SEC),
          clientName: client?.name ?? found.authorization.clientId,
          userCode: displayUserCode(found.userCode),
          username: user.username,
          scopes: found.authorization.scope,
        }),
      )
    },
  )

  app.post(
    '/device/decision',
    {
      schema: {
        summary: 'Device verification: allow or deny',
        tags: ['oauth'],
        produces: ['text/html'],
        consumes: ['application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          properties: {
            consent: param('the sealed decision context'),
            decision: param('approve or deny'),
            csrf: param('anti-forgery token'),
          },
        },
        response: { 200: htmlPage, 400: htmlPage, 403: htmlPage },
      },
    },
    async (request, reply) => {
      const form = (request.body ?? {}) as FormBody
      if (forged(request, form))
        return html(reply, 403, deviceErrorPage('This form has expired. Enter the code again.'))
      const consent = ctx.seals.open<Consent>('device-consent', field(form, 'consent'))
      if (!consent) return html(reply, 400, deviceErrorPage('This page has expired. Enter the code again.'))
      const approved = field(form, 'decision') === 'approve'
      const authorization = await ctx.store.deviceByUserCode(consent.userCode)
      const recorded = await ctx.store.decideDevice(
        consent.userCode,
        approved ? { approved: true, sub: consent.sub, authTime: consent.authTime } : { approved: false },
      )
      if (!recorded || !authorization) {
        return html(reply, 400, deviceErrorPage('This code was already used or has expired.'))
      }
      reply.clearCookie(CSRF_COOKIE, { path: '/device' })
      const client = await ctx.clients.get(authorization.clientId)
      return html(reply, 200, deviceDonePage(approved, client?.name ?? authorization.clientId))
    },
  )
}
