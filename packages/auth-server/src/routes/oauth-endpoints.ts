// The form-encoded OAuth endpoints (token, revocation, introspection, PAR) share one strict body parser.
import formbody from '@fastify/formbody'
import type { FastifyPluginAsync } from 'fastify'
import type { ServerContext } from '../context.js'
import { TooManyRequests } from '../errors.js'
import { parseForm } from '../params.js'
import { rateLimitStore } from '../security/rate-limit-store.js'
import { deviceAuthorizationRoute } from './device-authorization.js'
import { introspectRoute } from './introspect.js'
import { parRoute } from './par.js'
import { revokeRoute } from './revoke.js'
import { tokenRoute } from './token.js'

/** Form bodies are small; anything larger is not a token request. */

export const FORM_BODY_LIMIT = 16 * 1024

export const oauthEndpoints: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  // Only application/x-www-form-urlencoded: JSON or anything else is an invalid_request, not a guess.
  app.removeAllContentTypeParsers()
  await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT, parser: parseForm })
  if (ctx.config.tokenRateLimit > 0) {
    // Per client IP, counted in the store (Redis when there is one) so the limit holds across instances. A store
    // that cannot count in time skips the limit rather than holding the request up.
    const { default: rateLimit } = await import('@fastify/rate-limit')
    await app.register(rateLimit, {
      global: false,
      store: rateLimitStore(ctx.store) as never,
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new TooManyRequests(context.ttl / 1000, 'rate limit exceeded, retry later'),
    })
  }
  await app.register(tokenRoute, { ctx })
  await app.register(revokeRoute, { ctx })
  await app.register(introspectRoute, { ctx })
  await app.register(parRoute, { ctx })
  await app.register(deviceAuthorizationRoute, { ctx })
}
