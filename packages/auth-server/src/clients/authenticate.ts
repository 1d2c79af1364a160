// Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).
import type { FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { InvalidClient, InvalidRequest } from '../errors.js'
import { type FormBody, param } from '../params.js'
import type { ClientRecord } from '../store/types.js'

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none'

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

/**
 * Identifies and authenticates the calling client by exactly one method:
 * HTTP Basic, form `client_secret`, or (public clients) `client_id` alone.
 * Every failure is the same `invalid_client` (401), whatever the reason; a
 * wrong secret counts against the caller's IP (brute-force protection).
 *
 * @example
 * const { client } = await authenticateClient(ctx, request, body)
 */
export async function authenticateClient(
  ctx: Pick<ServerContext, 'clients' | 'secrets' | 'guard' | 'audit'>,
  request: FastifyRequest,
  body: FormBody,
): Promise<AuthenticatedClient> {
  const authorization = request.headers.authorization
  const bodyId = param(body, 'client_id')
  const bodySecret = param(body, 'client_secret')
  const basic = authorization !== undefined && /^basic /i.test(authorization) ? parseBasic(authorization) : undefined

  if (basic && bodySecret !== undefined) throw new InvalidRequest('use only one client authentication method')
  if (basic && bodyId !== undefined && bodyId !== basic.clientId) {
    throw new InvalidRequest('client_id does not match the authenticated client')
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
    const locked = await ctx.guard.ipFailed(request.ip)
    if (locked !== undefined) {
      ctx.audit.emit(
        'address.locked_out',
        { actor: { type: 'anonymous' }, requestId: request.id, ip: request.ip },
        { target: { type: 'address', id: request.ip }, details: { until: new Date(locked).toISOString() } },
      )
    }
    await ctx.guard.checkIp(request.ip)
    throw new InvalidClient(undefined, {
      detail: !client
        ? `unknown client ${clientId}`
        : client.public
          ? `public client ${clientId} sent a secret`
          : `wrong secret for client ${clientId}`,
    })
  }
  // A right secret: only a lock this instance has seen holds it back (no store round trip on the hot path).
  ctx.guard.checkIpLocally(request.ip)

  return { client, method: basic ? 'client_secret_basic' : 'client_secret_post' }
}
