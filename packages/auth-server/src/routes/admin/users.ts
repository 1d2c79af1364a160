// /admin/v1/users: list (filters), create (a generated password shown once), read, change (disable, password,
// profile, roles), delete. Disabling publishes the revocation at once; only a full administrator touches admins.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { ifMatchOf } from '../../admin/etag.js'
import { pageOf } from '../../admin/pagination.js'
import { ADMIN_ROLE, ADMIN_SCOPE } from '../../admin/scopes.js'
import {
  createUser,
  deleteUser,
  matchesUser,
  type UserCheck,
  type UserFilter,
  type UserPatch,
  updateUser,
  userJson,
} from '../../admin/users.js'
import type { ServerContext } from '../../context.js'
import { NotFound } from '../../errors.js'
import { normalizeUsername, type UserRecord } from '../../store/types.js'
import type { UserInput } from '../../users/user.js'
import { type AdminCaller, adminCaller, beyondScope } from './auth.js'
import { page, resource } from './reply.js'
import {
  documentedBody,
  errorResponses,
  ifMatchHeader,
  pageQuery,
  pageOf as pageSchema,
  userSchema,
} from './schemas.js'

const tags = ['admin: users']
const security: Record<string, string[]>[] = [{ bearer: [] }, { dpop: [] }]
const params = {
  type: 'object',
  properties: { sub: { type: 'string', maxLength: 128 } },
  required: ['sub'],
} as const
const str = { type: 'string' } as const

export const adminUserRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const caller = (request: FastifyRequest) => adminCaller(ctx, request, 'users')
  /** Administrators are made, changed and removed by full administrators only (`tollgate:admin`). */
  const within =
    (request: FastifyRequest, admin: AdminCaller): UserCheck =>
    (record: UserRecord) => {
      if (record.roles.includes(ADMIN_ROLE) && !admin.scopes.includes(ADMIN_SCOPE)) {
        throw beyondScope(ctx, request, ADMIN_SCOPE, 'an administrator account')
      }
    }
  const existing = async (request: FastifyRequest, admin: AdminCaller) => {
    const { sub } = request.params as { sub: string }
    const user = await ctx.store.getUser(sub)
    if (!user) throw new NotFound(`no user "${sub}"`)
    within(request, admin)(user)
    return user
  }

  app.get(
    '/users',
    {
      schema: {
        summary: 'Users, by username',
        tags,
        security,
        querystring: {
          ...pageQuery,
          properties: {
            ...pageQuery.properties,
            q: { type: 'string', maxLength: 128, description: 'a substring of the username, name or email' },
            username: { type: 'string', maxLength: 128, description: 'exactly this username' },
            email: { type: 'string', maxLength: 512 },
            role: { type: 'string', maxLength: 128 },
            disabled: { type: 'boolean' },
          },
        },
        response: { 200: pageSchema(userSchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      await caller(request)
      const { cursor, limit, username, ...filter } = request.query as UserFilter & {
        cursor?: string
        limit: number
        username?: string
      }
      const users =
        username !== undefined
          ? [await ctx.store.findUserByUsername(username)].filter((u): u is UserRecord => u !== undefined)
          : await ctx.store.listUsers()
      const { items, next } = pageOf(
        users.filter((u) => matchesUser(u, filter)),
        (u) => `${normalizeUsername(u.username)}\u0000${u.sub}`,
        cursor,
        limit,
      )
      return page(reply, request, items.map(userJson), next)
    },
  )

  app.post(
    '/users',
    {
      ...documentedBody,
      schema: {
        summary: 'Create a user (without a password one is generated and shown once)',
        tags,
        security,
        body: {
          type: 'object',
          required: ['username'],
          properties: {
            username: str,
            password: str,
            email: str,
            email_verified: { type: 'boolean' },
            name: str,
            picture: str,
            roles: { type: 'array', items: str },
            disabled: { type: 'boolean' },
          },
        },
        response: { 201: userSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const admin = await caller(request)
      const { record, password } = await createUser(
        ctx,
        request.body as Partial<UserInput>,
        admin.by,
        within(request, admin),
      )
      reply.header('location', `/admin/v1/users/${record.sub}`)
      return resource(reply, 201, { ...userJson(record), ...(password ? { password } : {}) }, record)
    },
  )

  app.get(
    '/users/:sub',
    {
      schema: {
        summary: 'A user, with its ETag',
        tags,
        security,
        params,
        response: { 200: userSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await existing(request, await caller(request))
      return resource(reply, 200, userJson(user), user)
    },
  )

  app.patch(
    '/users/:sub',
    {
      ...documentedBody,
      schema: {
        summary:
          'Change a user: {"disabled": true} refuses their tokens and ends their sessions at once; {"password": …} ' +
          'ends their sessions (unless keep_sessions); name, email, email_verified, picture (null clears), roles',
        tags,
        security,
        params,
        headers: ifMatchHeader,
        consumes: ['application/merge-patch+json', 'application/json'],
        body: {
          type: 'object',
          properties: {
            disabled: { type: 'boolean' },
            password: str,
            keep_sessions: { type: 'boolean' },
            name: { type: ['string', 'null'] },
            email: { type: ['string', 'null'] },
            email_verified: { type: 'boolean' },
            picture: { type: ['string', 'null'] },
            roles: { type: 'array', items: str },
          },
        },
        response: { 200: userSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const admin = await caller(request)
      const user = await existing(request, admin)
      const { record, sessionsEnded } = await updateUser(
        ctx,
        user.sub,
        request.body as UserPatch,
        admin.by,
        ifMatchOf(request.headers['if-match']),
        within(request, admin),
      )
      return resource(reply, 200, { ...userJson(record), sessions_ended: sessionsEnded }, record)
    },
  )

  app.delete(
    '/users/:sub',
    {
      schema: {
        summary: 'Delete a user: their tokens are refused and their sessions end, at verifiers too',
        tags,
        security,
        params,
        headers: ifMatchHeader,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const admin = await caller(request)
      const user = await existing(request, admin)
      await deleteUser(ctx, user.sub, admin.by, ifMatchOf(request.headers['if-match']))
      return reply.code(204).send()
    },
  )
}
