// /v1/me and /v1/notes: routes protected by the shared Tollgate plugin.
import type { FastifyPluginAsync } from 'fastify'
import type { NoteBook } from '../notes.js'

const bearerError = {
  type: 'object',
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
} as const

const note = {
  type: 'object',
  properties: { id: { type: 'string' }, text: { type: 'string' }, created_at: { type: 'string' } },
} as const

const errors = { 400: bearerError, 401: bearerError, 403: bearerError, 503: bearerError } as const
const security: Record<string, string[]>[] = [{ bearer: [] }, { dpop: [] }]
const NO_ROLES: readonly string[] = Object.freeze([])

/** Every scope these routes ask for (the `scopes_supported` of the API's RFC 9728 metadata). */
export const NOTES_SCOPES = ['notes:read', 'notes:write'] as const

export const notesRoutes: FastifyPluginAsync<{ notes: NoteBook }> = async (app, { notes }) => {
  app.get(
    '/v1/me',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Who the token belongs to',
        security,
        response: {
          200: {
            type: 'object',
            properties: {
              sub: { type: 'string' },
              client_id: { type: 'string' },
              scope: { type: 'string' },
              roles: { type: 'array', items: { type: 'string' } },
              auth_time: { type: 'integer' },
              exp: { type: 'integer' },
              actor_chain: {
                type: 'array',
                items: { type: 'string' },
                description: 'after a token exchange: the services acting for sub, the current one first',
              },
            },
          },
          ...errors,
        },
      },
    },
    // Synchronous: no promise per request on the API's hottest route. An undefined auth_time (a service token) is
    // left out by the serializer.
    (request, reply) => {
      const { claims, actorChain } = request.auth!
      reply.send({
        sub: claims.sub,
        client_id: claims.client_id,
        scope: claims.scope,
        roles: claims.roles ?? NO_ROLES,
        auth_time: claims.auth_time,
        exp: claims.exp,
        actor_chain: actorChain.length > 0 ? actorChain : undefined,
      })
    },
  )

  app.get(
    '/v1/notes',
    {
      onRequest: app.requireScope('notes:read'),
      schema: { summary: "The caller's notes", security, response: { 200: { type: 'array', items: note }, ...errors } },
    },
    async (request) => notes.list(request.auth!.subject),
  )

  app.post(
    '/v1/notes',
    {
      onRequest: app.requireScope('notes:write'),
      schema: {
        summary: 'Add a note',
        security,
        body: {
          type: 'object',
          properties: { text: { type: 'string', minLength: 1, maxLength: 1000 } },
          required: ['text'],
          additionalProperties: false,
        },
        response: { 201: note, ...errors },
      },
    },
    async (request, reply) => {
      const { text } = request.body as { text: string }
      return reply.code(201).send(notes.add(request.auth!.subject, text))
    },
  )
}
