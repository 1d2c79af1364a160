// The one place errors become HTTP answers: OAuth errors as RFC 6749 JSON, anything else as server_error.
import { echo, type RequestView, requestErrorAnswer } from '@tollgate/shared/service'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { InvalidRequest, NotFound, OAuthError, StoreUnavailableError, TemporarilyUnavailable } from '../errors.js'
import { checkQueryEncoding } from '../params.js'

/**
 * Maps any thrown value to the OAuthError the client may see; `undefined` for a bug (answered `server_error`).
 * Validation and framework errors are described in words (which parameter, which content type), never in the
 * validator's.
 */
export function toOAuthError(err: unknown, request?: RequestView): OAuthError | undefined {
  if (err instanceof OAuthError) return err
  if (err instanceof StoreUnavailableError) return new TemporarilyUnavailable()
  const answer = requestErrorAnswer(err, request)
  if (answer) return new InvalidRequest(answer.description, { status: answer.status })
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new InvalidRequest('the request is malformed', { status })
  }
  return undefined
}

/**
 * The error handler of routes that answer HTML pages (the sign-in and sign-out pages): the same mapping as the JSON
 * routes, answered as a page in words (`render`), so a browser never shows a JSON object or a validator's text.
 *
 * @example
 * app.setErrorHandler(htmlErrorHandler(ctx.log, (reply, status, message) => page(reply, status, errorPage(message))))
 */
export function htmlErrorHandler(
  log: FastifyBaseLogger,
  render: (reply: FastifyReply, status: number, message: string) => FastifyReply,
) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const oauth = toOAuthError(err, request)
    if (!oauth) {
      log.error({ reqId: request.id, err }, 'unhandled error')
      return render(reply, 500, 'Something went wrong on our side. Please try again.')
    }
    if (oauth.status >= 500) log.warn({ reqId: request.id, err, detail: oauth.detail }, oauth.message)
    reply.headers(oauth.headers)
    return render(reply, oauth.status, `${oauth.message.charAt(0).toUpperCase()}${oauth.message.slice(1)}.`)
  }
}

/** The RFC 6749 §5.2 body of an error. */
export const errorBody = (err: OAuthError) => ({ error: err.code, error_description: err.message })

async function errorHandler(fastify: FastifyInstance, options: { log: FastifyBaseLogger }): Promise<void> {
  const { log } = options
  fastify.setErrorHandler((err, request, reply) => {
    const oauth = toOAuthError(err, request)
    if (!oauth) {
      log.error({ reqId: request.id, err }, 'unhandled error')
      return reply
        .code(500)
        .header('cache-control', 'no-store')
        .send({ error: 'server_error', error_description: 'internal error' })
    }
    if (oauth.status >= 500) log.warn({ reqId: request.id, err, detail: oauth.detail }, oauth.message)
    else if (oauth.detail) log.info({ reqId: request.id, error: oauth.code, detail: oauth.detail }, oauth.message)
    return reply
      .code(oauth.status)
      .headers({ 'cache-control': 'no-store', ...oauth.headers })
      .send(errorBody(oauth))
  })

  // A query string the router decoded leniently (`%ZZ` kept as text) is refused before any work.
  fastify.addHook('onRequest', (request, _reply, done) => {
    try {
      checkQueryEncoding(request.url)
    } catch (err) {
      return done(err as Error)
    }
    done()
  })

  fastify.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(
        errorBody(new NotFound(`no route for ${echo(request.method, 16)} ${echo(request.url.split('?')[0], 100)}`)),
      ),
  )
}

export default fp(errorHandler, { fastify: '5.x', name: 'tollgate-error-handler' })
