// GET /revocation-events (metadata: revocation_events_endpoint): the revocation log as signed SETs, for anyone —
// polled as JSON, or pushed as Server-Sent Events that resume from Last-Event-ID. See docs/revocation-events.md.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { InvalidRequest } from '../errors.js'
import { CURSOR, type FeedEvent, RevocationFeed } from '../revocation/feed.js'
import { errorResponses } from './schemas.js'

/** How often a stream says "nothing new, and you are current": a follower measures its lag by it. */
export const HEARTBEAT_MS = 2_000
const MAX_LIMIT = 1_000

const schema = {
  summary: 'Revocation events (signed SETs, RFC 8417): JSON page, or text/event-stream',
  tags: ['discovery'],
  produces: ['application/json', 'text/event-stream'],
  querystring: {
    type: 'object',
    properties: {
      after: { type: 'string', maxLength: 32, description: 'cursor: the id of the last event already seen' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 500 },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        events: {
          type: 'array',
          items: { type: 'object', properties: { id: { type: 'string' }, set: { type: 'string' } } },
        },
        cursor: { type: ['string', 'null'] },
        more: { type: 'boolean' },
      },
    },
    ...errorResponses,
  },
} as const

function cursorOf(request: FastifyRequest): string | undefined {
  const { after } = request.query as { after?: string }
  const header = request.headers['last-event-id']
  const given = after ?? (typeof header === 'string' && header !== '' ? header : undefined)
  if (given !== undefined && !CURSOR.test(given)) throw new InvalidRequest('the cursor is not an event id')
  return given
}

const frame = (events: readonly FeedEvent[]) =>
  events.map((e) => `id: ${e.id}\nevent: revocation\ndata: ${e.set}\n\n`).join('')

export const revocationEventsRoute: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const feed = new RevocationFeed({
    store: ctx.store,
    keystore: ctx.keystore,
    alg: ctx.config.accessTokenSigningAlg,
    issuer: ctx.config.issuer,
    now: ctx.now,
  })
  const streams = new Set<FastifyReply>()
  app.addHook('preClose', async () => {
    for (const reply of streams) reply.raw.end()
    feed.close()
  })

  const stream = async (request: FastifyRequest, reply: FastifyReply, after: string | undefined) => {
    await feed.start()
    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    raw.write('retry: 1000\n\n')
    streams.add(reply)
    const heartbeat = () =>
      raw.write(`event: heartbeat\ndata: ${JSON.stringify({ cursor: feed.cursor ?? null, time: ctx.now() })}\n\n`)
    const unsubscribe = await feed.subscribe(after, (events) => raw.write(frame(events)))
    heartbeat() // caught up
    const timer = setInterval(heartbeat, HEARTBEAT_MS)
    request.raw.once('close', () => {
      clearInterval(timer)
      unsubscribe()
      streams.delete(reply)
    })
  }

  app.get('/revocation-events', { schema }, async (request, reply) => {
    const after = cursorOf(request)
    if ((request.headers.accept ?? '').includes('text/event-stream')) return stream(request, reply, after)
    const { limit } = request.query as { limit: number }
    const { events, more } = await feed.page(after, limit)
    return reply.header('cache-control', 'no-store').send({ events, cursor: events.at(-1)?.id ?? after ?? null, more })
  })
}
