// Authorization server metadata (RFC 8414, with OIDC discovery as the fallback), matched strictly to the issuer.
import { DiscoveryError } from '../errors.js'

/** The members of the metadata Tollgate reads; the rest passes through. */
export interface AuthorizationServerMetadata {
  readonly issuer: string
  readonly token_endpoint?: string
  readonly jwks_uri?: string
  readonly [member: string]: unknown
}

/**
 * Fetches one metadata document: the HTTP status and the parsed body (`undefined` when it is not JSON). Rejects when
 * the server cannot be reached; retrying is the caller's policy.
 */
export type MetadataGet = (url: URL) => Promise<{ readonly status: number; readonly body: unknown }>

/** RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path. */
export function metadataUrl(issuer: string): URL {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return new URL(`/.well-known/oauth-authorization-server${path}`, url.origin)
}

/** OIDC Discovery §4: the well-known segment is appended to the issuer. */
function openidConfigurationUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)
}

/**
 * The issuer's metadata: the RFC 8414 document, else the OIDC one. RFC 8414 §3.3: the `issuer` it names must be
 * identical to the issuer asked for — otherwise another server answered and nothing in it can be trusted
 * (DiscoveryError). A document that is absent (404, not JSON) moves on to the next location; when neither exists,
 * DiscoveryError; when a location could not be reached, that error.
 *
 * @example
 * const metadata = await discover('https://auth.example', async (url) => {
 *   const res = await fetch(url)
 *   return { status: res.status, body: await res.json().catch(() => undefined) }
 * })
 */
export async function discover(issuer: string, get: MetadataGet): Promise<AuthorizationServerMetadata> {
  let unreachable: unknown
  for (const url of [metadataUrl(issuer), openidConfigurationUrl(issuer)]) {
    let answer: { status: number; body: unknown }
    try {
      answer = await get(url)
    } catch (err) {
      unreachable = err
      continue
    }
    const { status, body } = answer
    if (status !== 200 || typeof body !== 'object' || body === null) continue
    const named = (body as { issuer?: unknown }).issuer
    if (named !== issuer) {
      throw new DiscoveryError(`metadata at ${url.href} names issuer ${String(named)}, not ${issuer}`)
    }
    return body as AuthorizationServerMetadata
  }
  if (unreachable !== undefined) throw unreachable
  throw new DiscoveryError(`no authorization server metadata for ${issuer}`)
}

/** A required endpoint of the metadata, or DiscoveryError naming it. */
export function endpoint(metadata: AuthorizationServerMetadata, name: string): string {
  const value = metadata[name]
  if (typeof value !== 'string') throw new DiscoveryError(`the metadata of ${metadata.issuer} has no ${name}`)
  return value
}
