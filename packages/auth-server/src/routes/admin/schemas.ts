// JSON schemas of the admin API: the OpenAPI document's resources, and the serialisers of its answers.
import { errorResponses } from '../schemas.js'

const str = { type: 'string' } as const
const strings = { type: 'array', items: str } as const
const time = { type: 'string', format: 'date-time' } as const

export const clientSchema = {
  type: 'object',
  description: 'A client, in the bootstrap file’s field names (never its secret)',
  additionalProperties: true,
  properties: {
    client_id: str,
    public: { type: 'boolean' },
    name: str,
    grant_types: strings,
    scopes: strings,
    audiences: strings,
    redirect_uris: strings,
    allowed_origins: strings,
    dpop_bound_access_tokens: { type: 'boolean' },
    token_exchange: { type: 'object', properties: { subject_audiences: strings, audiences: strings } },
    post_logout_redirect_uris: strings,
    require_pushed_authorization_requests: { type: 'boolean' },
    dynamically_registered: { type: 'boolean' },
    created_at: time,
    updated_at: time,
    client_secret: { type: 'string', description: 'only when generated or rotated: shown once' },
  },
} as const

/** What a client definition sends (bootstrap names); validated by the same rules as the bootstrap file. */
export const clientBody = {
  type: 'object',
  additionalProperties: true,
  properties: {
    ...clientSchema.properties,
    client_secret: {
      type: 'string',
      description: 'at least 32 characters; left out, a confidential client keeps its secret (or gets a new one)',
    },
  },
} as const

export const userSchema = {
  type: 'object',
  properties: {
    sub: str,
    username: str,
    email: str,
    email_verified: { type: 'boolean' },
    name: str,
    picture: str,
    roles: strings,
    disabled: { type: 'boolean' },
    created_at: time,
    updated_at: time,
    password: { type: 'string', description: 'only when generated: shown once' },
    sessions_ended: { type: 'integer' },
  },
} as const

export const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'the session’s public id: the `sid` of its tokens' },
    client_id: str,
    scope: strings,
    created_at: time,
    last_used_at: time,
    expires_at: time,
    user_agent: { type: ['string', 'null'] },
  },
} as const

export const keySchema = {
  type: 'object',
  properties: {
    kid: str,
    alg: str,
    state: { type: 'string', enum: ['pending', 'active', 'verifying', 'retired'] },
    signing: { type: 'boolean' },
    created_at: time,
    activates_at: time,
    retires_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const

export const initialAccessTokenSchema = {
  type: 'object',
  properties: {
    id: str,
    token: { type: 'string', description: 'only at creation: shown once' },
    created_at: time,
    expires_at: time,
    max_uses: { type: 'integer' },
    uses_left: { type: 'integer' },
    created_by: str,
    description: str,
  },
} as const

const detail = { anyOf: [str, { type: 'number' }, { type: 'boolean' }, strings] }
export const auditEventSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'the event’s cursor (and SSE id)' },
    type: str,
    time,
    actor: {
      type: 'object',
      properties: { type: str, id: str, name: str, client_id: str },
    },
    target: { type: 'object', properties: { type: str, id: str, name: str } },
    outcome: { type: 'string', enum: ['success', 'failure'] },
    request_id: str,
    source_ip: str,
    details: { type: 'object', additionalProperties: detail },
  },
} as const

/** A page of a list: `next_cursor` is the `cursor` of the next page, null on the last. */
export const pageOf = (item: object) =>
  ({
    type: 'object',
    properties: { items: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'] } },
    required: ['items', 'next_cursor'],
  }) as const

export const pageQuery = {
  type: 'object',
  properties: {
    cursor: { type: 'string', maxLength: 700 },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
} as const

export const ifMatchHeader = {
  type: 'object',
  properties: {
    'if-match': { type: 'string', description: 'the ETag read: the change applies only to that version (else 412)' },
  },
} as const

export { errorResponses }

/**
 * Route options for bodies our own modules validate (the bootstrap file's rules, RFC 7591's errors): the schema
 * documents the body in OpenAPI but is not applied. Fastify's validator would coerce types in place (`null` to
 * `""`, which would turn a merge patch's "reset this field" into an empty value).
 */
export const documentedBody = { validatorCompiler: () => () => true } as const
