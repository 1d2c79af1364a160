// POST /oauth/register (RFC 7591, advertised as registration_endpoint) and the client configuration endpoint
// /oauth/register/{client_id} (RFC 7592): parse, call registration/, answer. Off with REGISTRATION=off.
import { TollgateTokenError } from '@tollgate/shared'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { type AuditContext, clientActor, requestContext } from '../audit/event.js'
import type { ServerContext } from '../context.js'
import { TooManyRequests } from '../errors.js'
import { configuredClient, read, register, remove, rotateSecret, update } from '../registration/register.js'
import { documentedBody } from './admin/schemas.js'
import { BearerError } from './bearer-auth.js'
import { errorResponses } from './schemas.js'

/** Unauthenticated registrations per minute from one address (REGISTRATION=open), when rate limits are on. */
const OPEN_REGISTRATIONS_PER_MINUTE = 30

const strings = { type: 'array', items: { type: 'string' } } as const
/** RFC 7591 §2 metadata, for the OpenAPI document; validation is the bootstrap file's, with RFC 7591 errors. */
const metadata = {
  type: 'object',
  description:
    'RFC 7591 client metadata; Tollgate extensions: audiences (required), allowed_origins, token_exchange, ' +
    'dpop_bound_access_tokens (RFC 9449), post_logout_redirect_uris (OIDC RP-Initiated Logout)',
  properties: {
    redirect_uris: strings,
    token_endpoint_auth_method: { type: 'string', enum: ['none', 'client_secret_basic', 'client_secret_post'] },
    grant_types: strings,
    response_types: strings,
    client_name: { type: 'string' },
    scope: { type: 'string', description: 'space-separated' },
    audiences: { ...strings, description: 'the APIs (resource URIs) it gets tokens for; the first is the default' },
    allowed_origins: strings,
    dpop_bound_access_tokens: { type: 'boolean' },
    token_exchange: {
      type: 'object',
      properties: { subject_audiences: strings, audiences: strings },
    },
    post_logout_redirect_uris: strings,
    software_statement: { type: 'string' },
  },
} as const
const registered = {
  type: 'object',
  additionalProperties: true,
  properties: {
    ...metadata.properties,
    client_id: { type: 'string' },
    client_secret: { type: 'string', description: 'shown once: at registration and when rotated' },
    client_id_issued_at: { type: 'integer' },
    client_secret_expires_at: { type: 'integer', description: '0: it does not expire' },
    registration_access_token: { type: 'string', description: 'shown once, at registration' },
    registration_client_uri: { type: 'string' },
  },
} as const
const clientParams = {
  type: 'object',
  properties: { client_id: { type: 'string', maxLength: 256 } },
  required: ['client_id'],
} as const
const security: Record<string, string[]>[] = [{ bearer: [] }]
const tags = ['registration']

export const registrationRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const realm = ctx.config.issuer
  // A refused registration credential is an RFC 6750 answer with its challenge.
  app.setErrorHandler((err) => {
    if (err instanceof TollgateTokenError) throw new BearerError(err, realm)
    throw err
  })
  const done = (reply: FastifyReply, status: number, body?: Record<string, unknown>) =>
    reply.code(status).headers({ 'cache-control': 'no-store', pragma: 'no-cache' }).send(body)
  const who = (request: FastifyRequest): AuditContext => requestContext(request, { type: 'anonymous' })
  const managed = async (request: FastifyRequest) => {
    const { client_id } = request.params as { client_id: string }
    const client = await configuredClient(ctx, client_id, request.headers.authorization, who(request))
    return { client, by: requestContext(request, clientActor(client.clientId)) }
  }

  app.post(
    '/oauth/register',
    {
      ...documentedBody,
      schema: {
        summary: 'Dynamic client registration (RFC 7591)',
        tags,
        security: [...security, {}],
        body: metadata,
        response: { 201: registered, ...errorResponses },
      },
    },
    async (request, reply) => {
      if (ctx.config.tokenRateLimit > 0 && request.headers.authorization === undefined) {
        const { count, ttlMs } = await ctx.store.countRequest(`register:${request.ip}`, 60_000)
        if (count > OPEN_REGISTRATIONS_PER_MINUTE) throw new TooManyRequests(ttlMs / 1000)
      }
      return done(reply, 201, await register(ctx, request.body, request.headers.authorization, who(request)))
    },
  )

  app.get(
    '/oauth/register/:client_id',
    {
      schema: {
        summary: 'Read a registered client (RFC 7592 §2.1)',
        tags,
        security,
        params: clientParams,
        response: { 200: registered, ...errorResponses },
      },
    },
    async (request, reply) => done(reply, 200, read(ctx, (await managed(request)).client)),
  )

  app.put(
    '/oauth/register/:client_id',
    {
      ...documentedBody,
      schema: {
        summary: 'Replace a registered client’s metadata (RFC 7592 §2.2)',
        tags,
        security,
        params: clientParams,
        body: { ...metadata, properties: { ...metadata.properties, client_id: { type: 'string' } } },
        response: { 200: registered, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { client, by } = await managed(request)
      return done(reply, 200, await update(ctx, client, request.body, by))
    },
  )

  app.delete(
    '/oauth/register/:client_id',
    {
      schema: {
        summary: 'Remove a registered client (RFC 7592 §2.3); every token it holds is refused',
        tags,
        security,
        params: clientParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { client, by } = await managed(request)
      await remove(ctx, client, by)
      return done(reply, 204)
    },
  )

  app.post(
    '/oauth/register/:client_id/secret',
    {
      schema: {
        summary: 'Rotate a registered client’s secret (Tollgate’s addition to RFC 7592): the new one is shown once',
        tags,
        security,
        params: clientParams,
        response: { 200: registered, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { client, by } = await managed(request)
      return done(reply, 200, await rotateSecret(ctx, client, by))
    },
  )
}
