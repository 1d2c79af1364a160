// The one place errors become HTTP answers: OAuth errors as RFC 6749 JSON, anything else as server_error.
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import {
  Conflict,
  InvalidRequest,
  NotFound,
  OAuthError,
  PreconditionFailed,
  StoreUnavailableError,
  TemporarilyUnavailable,
} from '../errors.js'
import { WriteConflictError } from '../store/types.js'

/** Maps any thrown value to the OAuthError the client may see; `undefined` for a bug (answered `server_error`). */
export function toOAuthError(err: unknown): OAuthError | undefined {
  if (err instanceof OAuthError) return err
  if (err instanceof StoreUnavailableError) return new TemporarilyUnavailable()
  // A conditional write (admin API) that did not apply.
  if (err instanceof WriteConflictError) {
    if (err.reason === 'stale') return new PreconditionFailed('the resource has changed since it was read (ETag)')
    if (err.reason === 'exists') return new Conflict('the resource exists already')
    return new NotFound('no such resource')
  }
  const fe = err as Partial<FastifyError> | undefined
  if (fe?.validation) return new InvalidRequest(fe.message ?? 'invalid request')
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new InvalidRequest('unsupported content type', { status: 415 })
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new InvalidRequest('request body too large', { status: 413 })
  const status = fe?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, bad content length, …); their messages carry no input.
    return new InvalidRequest(fe?.code?.startsWith('FST_') ? (fe.message ?? 'invalid request') : 'invalid request', {
      status,
    })
  }
  return undefined
}

/** The RFC 6749 §5.2 body of an error. */
export const errorBody = (err: OAuthError) => ({ error: err.code, error_description: err.message })

async function errorHandler(fastify: FastifyInstance, options: { log: FastifyBaseLogger }): Promise<void> {
  const { log } = options
  fastify.setErrorHandler((err, request, reply) => {
    const oauth = toOAuthError(err)
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

  fastify.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(new NotFound(`no route for ${request.method} ${request.url.split('?')[0]}`))),
  )
}

export default fp(errorHandler, { fastify: '5.x', name: 'tollgate-error-handler' })
