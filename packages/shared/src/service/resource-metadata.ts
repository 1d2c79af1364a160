// RFC 9728 OAuth 2.0 Protected Resource Metadata: what a resource tells clients about itself (which authorization
// server issues its tokens, which scopes it knows, whether it takes DPoP), built the same way by every service.
import type { FastifyInstance } from 'fastify'

/** What a resource says about itself; see {@link protectedResourceMetadata}. */
export interface ProtectedResource {
  /** The resource identifier: the tokens' `aud`, an http(s) URL without query or fragment (RFC 9728 §1.2). */
  readonly resource: string
  /** Issuer identifiers of the authorization servers whose tokens it accepts. */
  readonly authorizationServers: readonly string[]
  /** Scopes its routes ask for (`scopes_supported`); omitted when it names none. */
  readonly scopes?: readonly string[]
  /** DPoP proof algorithms it verifies; empty or omitted when it takes no DPoP. */
  readonly dpopAlgorithms?: readonly string[]
  /** Whether it accepts DPoP-bound tokens only (`dpop_bound_access_tokens_required`). */
  readonly dpopRequired?: boolean
  /** A human-readable name (`resource_name`). */
  readonly name?: string
  /** A page for developers (`resource_documentation`). */
  readonly documentation?: string
}

/** The metadata document (RFC 9728 §2), as JSON members. */
export interface ProtectedResourceMetadata {
  readonly resource: string
  readonly authorization_servers: readonly string[]
  readonly scopes_supported?: readonly string[]
  readonly bearer_methods_supported: readonly string[]
  readonly dpop_signing_alg_values_supported?: readonly string[]
  readonly dpop_bound_access_tokens_required?: boolean
  readonly resource_name?: string
  readonly resource_documentation?: string
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource'
const strings = { type: 'array', items: { type: 'string' } } as const
/** The document's shape, for the OpenAPI description. */
const DOCUMENT_SCHEMA = {
  type: 'object',
  required: ['resource', 'bearer_methods_supported'],
  properties: {
    resource: { type: 'string', description: 'the resource identifier: the `aud` of its tokens' },
    authorization_servers: { ...strings, description: 'issuers whose tokens it accepts' },
    scopes_supported: strings,
    bearer_methods_supported: strings,
    dpop_signing_alg_values_supported: strings,
    dpop_bound_access_tokens_required: { type: 'boolean' },
    resource_name: { type: 'string' },
    resource_documentation: { type: 'string' },
  },
} as const

/** The resource identifier as a URL, when it can have metadata: http(s), no query, no fragment. */
function resourceUrl(resource: string): URL | undefined {
  let url: URL
  try {
    url = new URL(resource)
  } catch {
    return undefined
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') return undefined
  if (resource.includes('?') || resource.includes('#')) return undefined
  return url
}

/**
 * The path the metadata is served at on the resource's host: the well-known suffix inserted between the host and
 * the resource's own path (RFC 9728 §3.1); `undefined` when the resource identifier is not such a URL.
 *
 * @example
 * protectedResourceMetadataPath('https://api.example/v1') // '/.well-known/oauth-protected-resource/v1'
 */
export function protectedResourceMetadataPath(resource: string): string | undefined {
  const url = resourceUrl(resource)
  if (url === undefined) return undefined
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return `${WELL_KNOWN}${path}`
}

/**
 * Where clients fetch the metadata (the `resource_metadata` of a challenge, RFC 9728 §5.1); `undefined` when the
 * resource identifier is not an http(s) URL without query and fragment.
 *
 * @example
 * protectedResourceMetadataUrl('https://api.example') // 'https://api.example/.well-known/oauth-protected-resource'
 */
export function protectedResourceMetadataUrl(resource: string): string | undefined {
  const url = resourceUrl(resource)
  const path = protectedResourceMetadataPath(resource)
  return url && path ? `${url.origin}${path}` : undefined
}

/**
 * The RFC 9728 document for a resource: `bearer_methods_supported` is `header` only (tokens in a query or a form
 * body are refused), DPoP members only when the resource verifies DPoP.
 *
 * @example
 * protectedResourceMetadata({ resource: 'https://api.example', authorizationServers: [issuer], scopes: ['notes:read'] })
 */
export function protectedResourceMetadata(input: ProtectedResource): ProtectedResourceMetadata {
  if (resourceUrl(input.resource) === undefined) {
    throw new TypeError('resource must be an http(s) URL without query or fragment')
  }
  const dpop = input.dpopAlgorithms !== undefined && input.dpopAlgorithms.length > 0
  return {
    resource: input.resource,
    authorization_servers: [...input.authorizationServers],
    ...(input.scopes && input.scopes.length > 0 ? { scopes_supported: [...new Set(input.scopes)].sort() } : {}),
    bearer_methods_supported: ['header'],
    ...(dpop
      ? {
          dpop_signing_alg_values_supported: [...(input.dpopAlgorithms ?? [])],
          dpop_bound_access_tokens_required: input.dpopRequired === true,
        }
      : {}),
    ...(input.name === undefined ? {} : { resource_name: input.name }),
    ...(input.documentation === undefined ? {} : { resource_documentation: input.documentation }),
  }
}

/**
 * Serves the document at its well-known path (and answers HEAD), cacheable for an hour.
 *
 * @example
 * serveProtectedResourceMetadata(app, protectedResourceMetadata({ resource: audience, authorizationServers: [issuer] }))
 */
export function serveProtectedResourceMetadata(app: FastifyInstance, metadata: ProtectedResourceMetadata): void {
  const path = protectedResourceMetadataPath(metadata.resource)
  if (path === undefined) throw new TypeError('resource must be an http(s) URL without query or fragment')
  const body = JSON.stringify(metadata)
  app.get(
    path,
    {
      schema: {
        summary: 'OAuth 2.0 Protected Resource Metadata (RFC 9728)',
        tags: ['discovery'],
        response: { 200: DOCUMENT_SCHEMA },
      },
      // A fixed document: serialised once, not per request.
      serializerCompiler: () => (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data)),
    },
    async (_request, reply) =>
      reply.type('application/json').header('cache-control', 'public, max-age=3600').send(body),
  )
}
