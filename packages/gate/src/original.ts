// The original request a proxy asks about, read from the headers of its forward-auth contract: X-Forwarded-*
// (Traefik, Caddy), X-Original-* (nginx), or the request line itself (Envoy's ext_authz with a path prefix).
import type { IncomingHttpHeaders } from 'node:http'
import { validHost } from '@tollgate/shared'
import { badRequest } from './errors.js'

/** The client's request, as the proxy received it. */
export interface OriginalRequest {
  readonly method: string
  /** The Host the client addressed, with its port if it named one. */
  readonly host: string
  /** The path as sent (still percent-encoded), without the query. */
  readonly path: string
  /** Scheme, host and path: what a DPoP proof's `htu` names. */
  readonly url: URL
}

/** What one source (a header family, or the request line) says about the original request. */
interface Description {
  readonly source: string
  method?: string
  proto?: string
  host?: string
  uri?: string
}

type Field = 'method' | 'proto' | 'host' | 'uri'
const FIELDS: readonly Field[] = ['method', 'proto', 'host', 'uri']
const WHAT: Record<Field, string> = { method: 'method', proto: 'scheme', host: 'host', uri: 'URI' }
const HEADERS: Record<Field, string> = {
  method: 'X-Forwarded-Method or X-Original-Method',
  proto: 'X-Forwarded-Proto or X-Original-URL',
  host: 'X-Forwarded-Host or X-Original-URL',
  uri: 'X-Forwarded-Uri, X-Original-URI or X-Original-URL',
}
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** Origin-form: a path, then an optional query; visible ASCII only, no fragment. */
const URI = /^\/[!"$-~]*$/
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)$/

/** A header's value; an empty header counts as absent. */
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

const same = (field: Field, a: string, b: string): boolean =>
  field === 'method' || field === 'uri' ? a === b : a.toLowerCase() === b.toLowerCase()

/** X-Forwarded-Method, -Proto, -Host, -Uri: Traefik's ForwardAuth and Caddy's forward_auth. */
function forwarded(headers: IncomingHttpHeaders): Description | undefined {
  const d: Description = { source: 'X-Forwarded-*' }
  const method = header(headers, 'x-forwarded-method')
  const proto = header(headers, 'x-forwarded-proto')
  const host = header(headers, 'x-forwarded-host')
  const uri = header(headers, 'x-forwarded-uri')
  if (method !== undefined) d.method = method
  if (proto !== undefined) d.proto = proto
  if (host !== undefined) d.host = host
  if (uri !== undefined) d.uri = uri
  return (method ?? proto ?? host ?? uri) ? d : undefined
}

/** X-Original-Method with X-Original-URI (a path) and/or X-Original-URL (absolute): nginx's auth_request. */
function original(headers: IncomingHttpHeaders): Description | undefined {
  const d: Description = { source: 'X-Original-*' }
  const method = header(headers, 'x-original-method')
  const uri = header(headers, 'x-original-uri')
  const url = header(headers, 'x-original-url')
  if (method !== undefined) d.method = method
  if (uri !== undefined) d.uri = uri
  if (url !== undefined) {
    const parts = ABSOLUTE.exec(url)
    if (!parts) throw badRequest('original_request', 'X-Original-URL is not an absolute URL')
    const [, proto = '', host = '', rest = ''] = parts
    const target = rest === '' ? '/' : rest
    if (uri !== undefined && uri !== target) {
      throw badRequest('header_families', 'X-Original-URI and X-Original-URL name different requests')
    }
    d.proto = proto
    d.host = host
    d.uri = target
  }
  return (method ?? uri ?? url) ? d : undefined
}

/**
 * Merges what every source says; two sources that both name a field must name the same value — otherwise a client
 * could add the family its proxy does not set and point the gate at another (a public) path.
 */
function merge(sources: readonly Description[]): Record<Field, string | undefined> {
  const merged: Record<Field, string | undefined> = {
    method: undefined,
    proto: undefined,
    host: undefined,
    uri: undefined,
  }
  const from: Partial<Record<Field, string>> = {}
  for (const source of sources) {
    for (const field of FIELDS) {
      const value = source[field]
      if (value === undefined) continue
      const earlier = merged[field]
      if (earlier !== undefined && !same(field, earlier, value)) {
        throw badRequest(
          'header_families',
          `${from[field]} and ${source.source} name different ${WHAT[field]}s: the proxy must set one family and blank the other`,
        )
      }
      merged[field] = value
      from[field] = source.source
    }
  }
  return merged
}

/** Checks and assembles the merged description; every part must be present and well-formed. */
function assemble(merged: Record<Field, string | undefined>): OriginalRequest {
  for (const field of FIELDS) {
    if (merged[field] === undefined) {
      throw badRequest(
        'original_request',
        `the proxy did not say which ${WHAT[field]} the client used (${HEADERS[field]})`,
      )
    }
  }
  const { method, proto, host, uri } = merged as Record<Field, string>
  if (!TOKEN.test(method)) throw badRequest('original_request', 'the original method is not an HTTP method')
  const scheme = proto.toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') {
    throw badRequest('original_request', 'the original scheme is neither http nor https')
  }
  // The one Host rule of every Tollgate service: a name, IPv4 or bracketed IPv6, and a port.
  if (!validHost(host)) throw badRequest('original_request', 'the original host is malformed')
  if (!URI.test(uri)) throw badRequest('original_request', 'the original URI is malformed')
  const q = uri.indexOf('?')
  const path = q === -1 ? uri : uri.slice(0, q)
  let url: URL
  try {
    url = new URL(`${scheme}://${host}${path}`)
  } catch {
    throw badRequest('original_request', 'the original host or path is malformed')
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw badRequest('original_request', 'the original host or path is malformed')
  }
  return { method, host, path, url }
}

/**
 * The original request of a `/verify` call: from X-Forwarded-* or X-Original-* (one family; both only when they
 * agree). The caller has checked that the peer is a trusted proxy.
 *
 * @example
 * const original = verifyRequestOf(request.headers) // throws GateRefusal when it is missing or contradictory
 */
export function verifyRequestOf(headers: IncomingHttpHeaders): OriginalRequest {
  const sources = [forwarded(headers), original(headers)].filter((d) => d !== undefined)
  if (sources.length === 0) {
    throw badRequest(
      'original_request',
      'the proxy sent no description of the original request (X-Forwarded-* or X-Original-*)',
    )
  }
  return assemble(merge(sources))
}

/**
 * The original request of an Envoy ext_authz call (`path_prefix` = `prefix`): its own method, Host and the path after
 * the prefix; the scheme from X-Forwarded-Proto. A header family that names something else is refused.
 *
 * @example
 * const original = extAuthzRequestOf('/ext-authz', request.method, request.url, request.headers)
 */
export function extAuthzRequestOf(
  prefix: string,
  method: string,
  requestUrl: string,
  headers: IncomingHttpHeaders,
): OriginalRequest {
  const line: Description = { source: 'the ext_authz request line', method, uri: requestUrl.slice(prefix.length) }
  const host = header(headers, 'host')
  if (host !== undefined) line.host = host
  const sources = [line, forwarded(headers), original(headers)].filter((d) => d !== undefined)
  return assemble(merge(sources))
}
