// Cross-site protection for the browser session endpoints: the Origin must be one the client allows, and CORS agrees.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AccessDenied } from '../../errors.js'
import type { ClientRecord } from '../../store/types.js'

/**
 * Lets the page read this answer (credentialed CORS) when its Origin is one of the session's client's: the same rule
 * as {@link requireAllowedOrigin}, so CORS never grants what the route refuses. Set before anything can fail, so the
 * client's own page also reads its errors.
 */
export function allowClientOrigin(request: FastifyRequest, reply: FastifyReply, client: ClientRecord): void {
  const origin = request.headers.origin
  if (origin !== undefined && client.allowedOrigins.includes(origin)) allowOrigin(reply, origin)
}

/** Credentialed CORS for one origin. */
export function allowOrigin(reply: FastifyReply, origin: string): void {
  reply
    .header('access-control-allow-origin', origin)
    .header('access-control-allow-credentials', 'true')
    .header('access-control-expose-headers', 'dpop-nonce, www-authenticate')
    .header('vary', 'Origin')
}

/** SameSite=Strict keeps the cookie off cross-site requests; this also refuses same-site origins the client does not list. */
export function requireAllowedOrigin(origin: string | undefined, client: ClientRecord): void {
  if (!origin || !client.allowedOrigins.includes(origin)) {
    throw new AccessDenied('this origin may not use the session endpoints of this client')
  }
}
