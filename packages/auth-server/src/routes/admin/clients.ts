// /admin/v1/clients: list, create, read, replace, patch, remove, rotate the secret (shown once). Every write takes
// If-Match; an administrator grants (and touches clients holding) only admin scopes they hold themselves.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import {
  type ClientCheck,
  clientJson,
  createClient,
  deleteClient,
  patchClient,
  replaceClient,
  rotateClientSecret,
} from '../../admin/clients.js'
import { ifMatchOf } from '../../admin/etag.js'
import { pageOf } from '../../admin/pagination.js'
import type { ServerContext } from '../../context.js'
import { NotFound } from '../../errors.js'
import type { ClientRecord } from '../../store/types.js'
import { type AdminCaller, adminCaller, beyondScope, mayHold } from './auth.js'
import { page, resource } from './reply.js'
import {
  clientBody,
  clientSchema,
  documentedBody,
  errorResponses,
  ifMatchHeader,
  pageQuery,
  pageOf as pageSchema,
} from './schemas.js'

const tags = ['admin: clients']
const security: Record<string, string[]>[] = [{ bearer: [] }, { dpop: [] }]
const params = {
  type: 'object',
  properties: { client_id: { type: 'string', maxLength: 256 } },
  required: ['client_id'],
} as const
const one = { 200: clientSchema, ...errorResponses }

export const adminClientRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const caller = (request: FastifyRequest) => adminCaller(ctx, request, 'clients')
  /** An administrator may only write clients whose admin scopes they hold, before and after the change. */
  const within =
    (request: FastifyRequest, admin: AdminCaller): ClientCheck =>
    (record: ClientRecord) => {
      const beyond = mayHold(admin, record.scopes)
      if (beyond !== undefined) throw beyondScope(ctx, request, beyond, `a client with ${beyond}`)
    }
  const existing = async (request: FastifyRequest, admin: AdminCaller) => {
    const { client_id } = request.params as { client_id: string }
    const client = await ctx.store.getClient(client_id)
    if (!client) throw new NotFound(`no client "${client_id}"`)
    await within(request, admin)(client)
    return client
  }

  app.get(
    '/clients',
    {
      schema: {
        summary: 'Clients, by client_id',
        tags,
        security,
        querystring: {
          ...pageQuery,
          properties: {
            ...pageQuery.properties,
            q: { type: 'string', maxLength: 128, description: 'a substring of the client_id or name' },
          },
        },
        response: { 200: pageSchema(clientSchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      await caller(request)
      const { cursor, limit, q } = request.query as { cursor?: string; limit: number; q?: string }
      const needle = q?.toLowerCase()
      const clients = (await ctx.store.listClients()).filter(
        (c) =>
          needle === undefined ||
          c.clientId.toLowerCase().includes(needle) ||
          (c.name ?? '').toLowerCase().includes(needle),
      )
      const { items, next } = pageOf(clients, (c) => c.clientId, cursor, limit)
      return page(reply, request, items.map(clientJson), next)
    },
  )

  app.post(
    '/clients',
    {
      ...documentedBody,
      schema: {
        summary: 'Create a client (a confidential one without client_secret gets a generated one, shown once)',
        tags,
        security,
        body: clientBody,
        response: { 201: clientSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const admin = await caller(request)
      const { record, secret } = await createClient(
        ctx,
        request.body as Record<string, unknown>,
        admin.by,
        within(request, admin),
      )
      reply.header('location', `/admin/v1/clients/${encodeURIComponent(record.clientId)}`)
      return resource(reply, 201, { ...clientJson(record), ...(secret ? { client_secret: secret } : {}) }, record)
    },
  )

  app.get(
    '/clients/:client_id',
    { schema: { summary: 'A client, with its ETag', tags, security, params, response: one } },
    async (request, reply) => {
      const client = await existing(request, await caller(request))
      return resource(reply, 200, clientJson(client), client)
    },
  )

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/clients/:client_id',
      ...documentedBody,
      schema: {
        summary:
          method === 'PUT'
            ? 'Replace a client’s definition (fields left out take their defaults; the secret stays unless given)'
            : 'Change some fields of a client (RFC 7396 merge patch: null resets a field)',
        tags,
        security,
        params,
        headers: ifMatchHeader,
        body: clientBody,
        consumes: method === 'PATCH' ? ['application/merge-patch+json', 'application/json'] : ['application/json'],
        response: one,
      },
      handler: async (request, reply) => {
        const admin = await caller(request)
        const client = await existing(request, admin)
        const ifMatch = ifMatchOf(request.headers['if-match'])
        const change = method === 'PUT' ? replaceClient : patchClient
        const { record, secret } = await change(
          ctx,
          client.clientId,
          request.body as Record<string, unknown>,
          admin.by,
          ifMatch,
          within(request, admin),
        )
        return resource(reply, 200, { ...clientJson(record), ...(secret ? { client_secret: secret } : {}) }, record)
      },
    })
  }

  app.delete(
    '/clients/:client_id',
    {
      schema: {
        summary: 'Remove a client: every token issued to it is refused from now on, at verifiers too',
        tags,
        security,
        params,
        headers: ifMatchHeader,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const admin = await caller(request)
      const client = await existing(request, admin)
      await deleteClient(ctx, client.clientId, admin.by, ifMatchOf(request.headers['if-match']))
      return reply.code(204).send()
    },
  )

  app.post(
    '/clients/:client_id/secret',
    {
      schema: {
        summary: 'Rotate a client’s secret: the new one is shown once, the old one stops working',
        tags,
        security,
        params,
        headers: ifMatchHeader,
        response: {
          200: {
            type: 'object',
            properties: { client_id: { type: 'string' }, client_secret: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const admin = await caller(request)
      const client = await existing(request, admin)
      const { record, secret } = await rotateClientSecret(
        ctx,
        client.clientId,
        admin.by,
        ifMatchOf(request.headers['if-match']),
      )
      return resource(reply, 200, { client_id: record.clientId, client_secret: secret }, record)
    },
  )
}
