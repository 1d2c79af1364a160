// /admin/v1/audit-events: the audit log, newest first, filtered by type, actor, target and time, with cursors; and
// /stream, the same live as Server-Sent Events that resume from Last-Event-ID without losing an event.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { type AuditFilter, auditJson } from '../../audit/event.js'
import { AuditFeed } from '../../audit/feed.js'
import type { ServerContext } from '../../context.js'
import { InvalidRequest } from '../../errors.js'
import type { AuditEntry } from '../../store/types.js'
import { adminCaller, stillAdmin } from './auth.js'
import { page } from './reply.js'
import { auditEventSchema, errorResponses, pageOf, pageQuery } from './schemas.js'

const tags = ['admin: audit']
const security: Record<string, string[]>[] = [{ bearer: [] }, { dpop: [] }]
/** How often a quiet stream says it is alive (and the caller's token is checked again). */
export const AUDIT_HEARTBEAT_MS = 10_000
const CURSOR = /^\d{1,16}-\d{1,20}$/

const filters = {
  type: {
    type: 'string',
    maxLength: 1024,
    description: 'event types, comma-separated; `user.*` for every type starting with `user.`',
  },
  actor: { type: 'string', maxLength: 256, description: 'an actor’s id, name or label (`operator:alice`)' },
  target: { type: 'string', maxLength: 256, description: 'a target’s id or name' },
} as const

interface FilterQuery {
  type?: string
  actor?: string
  target?: string
}

function filterOf(query: FilterQuery): AuditFilter {
  return {
    ...(query.type
      ? {
          types: query.type
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        }
      : {}),
    ...(query.actor ? { actor: query.actor } : {}),
    ...(query.target ? { target: query.target } : {}),
  }
}

function timeOf(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new InvalidRequest(`${name} must be a date-time (RFC 3339, e.g. 2025-01-31T12:00:00Z)`)
  return ms
}

function cursorOf(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  if (!CURSOR.test(value)) throw new InvalidRequest('the cursor is not an audit event id')
  return value
}

const frame = (entries: readonly AuditEntry[]) =>
  entries.map((e) => `id: ${e.id}\nevent: audit\ndata: ${JSON.stringify(auditJson(e.event, e.id))}\n\n`).join('')

export const auditEventRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const feed = new AuditFeed({ store: ctx.store, retentionMs: ctx.config.auditRetention * 1000, now: ctx.now })
  const streams = new Set<FastifyReply>()
  app.addHook('preClose', async () => {
    for (const reply of streams) reply.raw.end()
    feed.close()
  })

  app.get(
    '/audit-events',
    {
      schema: {
        summary: 'Audit events, newest first (kept for AUDIT_RETENTION)',
        tags,
        security,
        querystring: {
          ...pageQuery,
          properties: {
            ...pageQuery.properties,
            ...filters,
            since: { type: 'string', maxLength: 64, description: 'from this time (RFC 3339), inclusive' },
            until: { type: 'string', maxLength: 64, description: 'up to this time (RFC 3339), inclusive' },
          },
        },
        response: { 200: pageOf(auditEventSchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      await adminCaller(ctx, request, 'audit')
      const query = request.query as FilterQuery & { since?: string; until?: string; cursor?: string; limit: number }
      const since = timeOf(query.since, 'since')
      const until = timeOf(query.until, 'until')
      const cursor = cursorOf(query.cursor)
      const { entries, next } = await ctx.audit.query({
        ...filterOf(query),
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(cursor === undefined ? {} : { cursor }),
        limit: query.limit,
      })
      return page(
        reply,
        request,
        entries.map((e) => auditJson(e.event, e.id)),
        next,
      )
    },
  )

  app.get(
    '/audit-events/stream',
    {
      schema: {
        summary:
          'The audit log live (text/event-stream): new events, or every event after Last-Event-ID (or `after`) first',
        tags,
        security,
        produces: ['text/event-stream'],
        querystring: {
          type: 'object',
          properties: { ...filters, after: { type: 'string', maxLength: 40, description: 'resume after this id' } },
        },
        response: { ...errorResponses },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const admin = await adminCaller(ctx, request, 'audit')
      const query = request.query as FilterQuery & { after?: string }
      const header = request.headers['last-event-id']
      const after = cursorOf(query.after ?? (typeof header === 'string' ? header : undefined))
      const token = (request.headers.authorization ?? '').replace(/^\S+\s+/, '')
      // The backlog is read before the answer starts: a store that cannot answer is a 503, not an empty stream.
      const held: string[] = []
      let raw: import('node:http').ServerResponse | undefined
      const write = (text: string) => (raw ? raw.write(text) : held.push(text))
      const unsubscribe = await feed.subscribe(after, filterOf(query), (entries) => write(frame(entries)))
      reply.hijack()
      raw = reply.raw
      const stream = raw
      stream.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      stream.write(`retry: 1000\n\n${held.join('')}`)
      streams.add(reply)
      // The stream lasts as long as the caller's token: the client reconnects with a fresh one and Last-Event-ID.
      const expiry = setTimeout(() => end(), Math.max(0, admin.claims.exp * 1000 - ctx.now()))
      expiry.unref()
      const timer = setInterval(() => {
        // A revoked token (or a disabled administrator's) stops the stream at the next heartbeat.
        stillAdmin(ctx, token, admin.claims).then(
          (ok) => (ok ? stream.write(': heartbeat\n\n') : end()),
          () => end(),
        )
      }, AUDIT_HEARTBEAT_MS)
      timer.unref()
      const end = () => {
        clearInterval(timer)
        clearTimeout(expiry)
        unsubscribe()
        streams.delete(reply)
        if (!stream.writableEnded) stream.end()
      }
      stream.write(': caught up\n\n')
      request.raw.once('close', end)
      if (request.raw.destroyed) end()
    },
  )
}
