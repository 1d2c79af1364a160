// How admin API answers are shaped: resources with their ETag, pages with their cursor (in the body and a Link
// header), and our validation errors in the one error model.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { etagOf } from '../../admin/etag.js'
import { ClientValidationError } from '../../clients/client.js'
import { Conflict, InvalidClientMetadata, InvalidRedirectUri, InvalidRequest } from '../../errors.js'
import { UsernameTakenError } from '../../store/types.js'
import { UserValidationError } from '../../users/user.js'

/** Sends a resource; with its record, the ETag a later `If-Match` names. */
export function resource(
  reply: FastifyReply,
  status: number,
  body: object,
  record?: { readonly updatedAt?: number; readonly createdAt: number },
): FastifyReply {
  if (record) reply.header('etag', etagOf(record))
  return reply.code(status).send(body)
}

/** Sends a page: `{ items, next_cursor }`, and RFC 8288 `Link: <…>; rel="next"` when there is more. */
export function page(
  reply: FastifyReply,
  request: FastifyRequest,
  items: readonly object[],
  next: string | undefined,
): FastifyReply {
  if (next !== undefined) {
    const url = new URL(request.url, 'http://x')
    url.searchParams.set('cursor', next)
    reply.header('link', `<${url.pathname}${url.search}>; rel="next"`)
  }
  return reply.send({ items, next_cursor: next ?? null })
}

/** A validation failure of our own input modules, as the error model's answer. */
export function adminError(err: unknown): unknown {
  if (err instanceof ClientValidationError) {
    return err.field === 'redirect_uris' || err.field === 'post_logout_redirect_uris'
      ? new InvalidRedirectUri(err.message)
      : new InvalidClientMetadata(err.message)
  }
  if (err instanceof UserValidationError) return new InvalidRequest(err.message)
  if (err instanceof UsernameTakenError) return new Conflict(err.message)
  return err
}
