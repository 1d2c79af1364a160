// Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3, RFC 7521 §4.2):
// a secret (HTTP Basic or form), a client assertion (private_key_jwt or a platform token), or none (public clients).
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import type { ServerContext } from '../context.js'
import { InvalidClient, InvalidRequest } from '../errors.js'
import { type FormBody, param } from '../params.js'
import { isFapi2 } from '../profile/fapi2.js'
import type { ClientRecord } from '../store/types.js'
import { ASSERTION_TYPES, type AssertionDeps, verifyClientAssertion } from './assertion.js'

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'federated' | 'none'

export interface AuthenticatedClient {
  readonly client: ClientRecord
  readonly method: ClientAuthMethod
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    throw new InvalidClient('malformed client credentials')
  }
}

/** `client_id` and `client_secret` from an `Authorization: Basic` header, form-decoded (RFC 6749 §2.3.1). */
export function parseBasic(header: string): { clientId: string; secret: string } {
  const match = /^Basic +(\S+) *$/i.exec(header)
  if (!match?.[1] || match[1].length > 4096 || !BASE64.test(match[1]))
    throw new InvalidClient('malformed Basic credentials')
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 1) throw new InvalidClient('malformed Basic credentials')
  return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
}

const SECRET_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post']

/**
 * What a client authenticates with, checked against the way it registered (`token_endpoint_auth_method`). The two
 * secret methods carry the same secret and count as one (libraries differ in their default: openid-client posts,
 * oauth4webapi takes what it is given); a client registered for keys never authenticates with a secret, nor the
 * other way round.
 */
function mustUse(client: ClientRecord, method: ClientAuthMethod): void {
  const registered = client.tokenEndpointAuthMethod
  if (registered === undefined || registered === method) return
  if (SECRET_METHODS.includes(registered as ClientAuthMethod) && SECRET_METHODS.includes(method)) return
  throw new InvalidClient(`client ${client.clientId} must authenticate with ${registered}`)
}

type Deps = Pick<ServerContext, 'clients' | 'secrets' | 'guard' | 'audit'> & {
  /** PROFILE=fapi2 narrows client authentication to private_key_jwt. */
  readonly config?: Pick<Config, 'profile'>
  readonly assertions: Omit<AssertionDeps, 'clients'>
}

/**
 * Identifies and authenticates the calling client by exactly one method: HTTP Basic, form `client_secret`, a
 * `client_assertion` (RFC 7523: its own key's, or its platform's token), or (public clients) `client_id` alone. Two
 * methods in one request are 400 `invalid_request`; a failed check is 401 `invalid_client` and counts against the
 * caller's IP (brute-force protection), as a wrong secret does.
 *
 * @example
 * const { client } = await authenticateClient(ctx, request, body)
 */
export async function authenticateClient(
  ctx: Deps,
  request: FastifyRequest,
  body: FormBody,
): Promise<AuthenticatedClient> {
  const authenticated = await identify(ctx, request, body)
  // FAPI 2.0 §5.3.2.1: private_key_jwt (by the client's own key) and nothing else.
  if (ctx.config !== undefined && isFapi2(ctx.config) && authenticated.method !== 'private_key_jwt') {
    throw new InvalidClient('the FAPI 2.0 profile requires private_key_jwt client authentication', {
      detail: `client ${authenticated.client.clientId} used ${authenticated.method}`,
    })
  }
  return authenticated
}

async function identify(ctx: Deps, request: FastifyRequest, body: FormBody): Promise<AuthenticatedClient> {
  const authorization = request.headers.authorization
  const bodyId = param(body, 'client_id')
  const bodySecret = param(body, 'client_secret')
  const assertion = param(body, 'client_assertion')
  const assertionType = param(body, 'client_assertion_type')
  const basic = authorization !== undefined && /^basic /i.test(authorization) ? parseBasic(authorization) : undefined

  const methods = [basic, bodySecret, assertion].filter((m) => m !== undefined).length
  if (methods > 1) throw new InvalidRequest('use only one client authentication method')
  if (basic && bodyId !== undefined && bodyId !== basic.clientId) {
    throw new InvalidRequest('client_id does not match the authenticated client')
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (assertion === undefined) throw new InvalidRequest('client_assertion_type without client_assertion')
    if (assertionType === undefined) throw new InvalidRequest('client_assertion without client_assertion_type')
    if (!ASSERTION_TYPES.includes(assertionType)) {
      throw new InvalidRequest(`client_assertion_type must be one of ${ASSERTION_TYPES.join(', ')}`)
    }
    return withAssertion(ctx, request, assertion, assertionType, bodyId)
  }

  const clientId = basic?.clientId ?? bodyId
  const secret = basic?.secret ?? bodySecret
  if (clientId === undefined) throw new InvalidClient('client authentication is required')
  if (clientId.length > 256) throw new InvalidClient(undefined, { detail: 'client_id longer than 256 characters' })
  const client = await ctx.clients.get(clientId)

  if (secret === undefined) {
    if (!client?.public) {
      throw new InvalidClient(undefined, {
        detail: client ? `confidential client ${clientId} sent no secret` : `unknown client ${clientId}`,
      })
    }
    return { client, method: 'none' }
  }
  const ok = ctx.secrets.verify(secret, client?.public ? undefined : client?.secretHash)
  if (!ok || !client) {
    // A wrong secret: counted, and refused as throttled once the IP is locked.
    await countFailure(ctx, request)
    throw new InvalidClient(undefined, {
      detail: !client
        ? `unknown client ${clientId}`
        : client.public
          ? `public client ${clientId} sent a secret`
          : client.secretHash
            ? `wrong secret for client ${clientId}`
            : `client ${clientId} has no secret (it authenticates with keys or its platform)`,
    })
  }
  const method = basic ? 'client_secret_basic' : 'client_secret_post'
  mustUse(client, method)
  // A right secret: only a lock this instance has seen holds it back (no store round trip on the hot path).
  ctx.guard.checkIpLocally(request.ip)
  return { client, method }
}

/** A failed client authentication counts against the caller's IP (audited when it locks it); throttled once locked. */
async function countFailure(ctx: Deps, request: FastifyRequest): Promise<void> {
  const locked = await ctx.guard.ipFailed(request.ip)
  if (locked !== undefined) {
    ctx.audit.emit(
      'address.locked_out',
      { actor: { type: 'anonymous' }, requestId: request.id, ip: request.ip },
      { target: { type: 'address', id: request.ip }, details: { until: new Date(locked).toISOString() } },
    )
  }
  await ctx.guard.checkIp(request.ip)
}

/** A client assertion: a failure counts against the IP like a wrong secret; the assertion itself is never logged. */
async function withAssertion(
  ctx: Deps,
  request: FastifyRequest,
  assertion: string,
  type: string,
  clientId: string | undefined,
): Promise<AuthenticatedClient> {
  let verified: Awaited<ReturnType<typeof verifyClientAssertion>>
  try {
    verified = await verifyClientAssertion({ ...ctx.assertions, clients: ctx.clients }, { assertion, type, clientId })
  } catch (err) {
    if (err instanceof InvalidClient) await countFailure(ctx, request)
    throw err
  }
  ctx.guard.checkIpLocally(request.ip)
  return verified
}
