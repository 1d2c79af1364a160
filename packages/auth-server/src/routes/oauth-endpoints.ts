// The form-encoded OAuth endpoints (token, revocation, introspection) share one strict body parser.
import formbody from '@fastify/formbody'
import type { FastifyPluginAsync } from 'fastify'
import type { ServerContext } from '../context.js'
import { TooManyRequests } from '../errors.js'
import type { RedisStore } from '../store/redis/redis-store.js'
import type { Store } from '../store/types.js'
import { introspectRoute } from './introspect.js'
import { revokeRoute } from './revoke.js'
import { tokenRoute } from './token.js'

/** The store's Redis client, when it has one (without loading ioredis for the in-memory store). */
const redisOf = (store: Store) => (store as Partial<RedisStore>).redis

/** Form bodies are small; anything larger is not a token request. */

export const FORM_BODY_LIMIT = 16 * 1024

export const oauthEndpoints: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  // Only application/x-www-form-urlencoded: JSON or anything else is an invalid_request, not a guess.
  app.removeAllContentTypeParsers()
  await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT })
  if (ctx.config.tokenRateLimit > 0) {
    // Per client IP, counted in Redis when there is one so the limit holds across instances.
    const { default: rateLimit } = await import('@fastify/rate-limit')
    await app.register(rateLimit, {
      global: false,
      ...(redisOf(ctx.store) ? { redis: redisOf(ctx.store), nameSpace: 'ratelimit:' } : {}),
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new TooManyRequests(context.ttl / 1000, 'rate limit exceeded, retry later'),
    })
  }
  await app.register(tokenRoute, { ctx })
  await app.register(revokeRoute, { ctx })
  await app.register(introspectRoute, { ctx })
}
