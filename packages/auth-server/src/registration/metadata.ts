// RFC 7591 §2 client metadata ↔ Tollgate's client definition (the bootstrap file's fields), and the policy a
// self-registered client is held to. Validation itself is the bootstrap file's (clients/client.ts).

import { type ClientWrite, clientDefinition } from '../admin/clients.js'
import { isAdminScope } from '../admin/scopes.js'
import { ClientValidationError } from '../clients/client.js'
import {
  InvalidClientMetadata,
  InvalidRedirectUri,
  InvalidSoftwareStatement,
  type OAuthError,
  UnapprovedSoftwareStatement,
} from '../errors.js'
import { type ClientRecord, TOKEN_EXCHANGE } from '../store/types.js'

/** `token_endpoint_auth_method` values and what they make of a client (RFC 7591 §2, OIDC Core §9). */
const AUTH_METHODS: Readonly<Record<string, { readonly public: boolean }>> = {
  none: { public: true },
  client_secret_basic: { public: false },
  client_secret_post: { public: false },
  // The client's `jwks` or `jwks_uri` sign its assertions (issue 24); no secret is issued.
  private_key_jwt: { public: false },
}

/** RFC 7591 names with a Tollgate name: the RFC's is the one to send here. */
const RENAMED: Readonly<Record<string, string>> = {
  scopes: 'scope',
  name: 'client_name',
  public: 'token_endpoint_auth_method',
}

/**
 * Registered metadata (RFC 7591 §2, OIDC Registration) this server does not use: informational, accepted and not
 * kept, as RFC 7591 §2 asks. Any other unknown name is refused, as in the bootstrap file: a typo must not silently
 * drop a setting.
 */
const IGNORED = new Set([
  'client_uri',
  'logo_uri',
  'contacts',
  'tos_uri',
  'policy_uri',
  'software_id',
  'software_version',
  'application_type',
])

/** Set by the server: ignored in a request (a client may send back what it read), never taken from it. */
const SERVER_SET = new Set([
  'client_id_issued_at',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
])

/** Grants a client may only get through an initial access token (or the admin API): they act without a user. */
const TRUSTED_GRANTS = new Set(['client_credentials', 'password', TOKEN_EXCHANGE])

/** Redirect URI schemes that can never be an application's. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'about:', 'blob:'])

const words = (value: unknown, field: string): string[] => {
  if (value === undefined) return []
  if (typeof value !== 'string') throw new InvalidClientMetadata(`${field} must be a space-separated string`)
  return value.split(' ').filter(Boolean)
}

/** RFC 7591 §2.3: a software statement is a JWT; this server approves none. */
function softwareStatement(value: unknown): never {
  const parts = typeof value === 'string' ? value.split('.') : []
  let header: unknown
  try {
    header = parts.length === 3 ? JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8')) : undefined
  } catch {}
  if (typeof header !== 'object' || header === null || typeof (header as { alg?: unknown }).alg !== 'string') {
    throw new InvalidSoftwareStatement('software_statement is not a signed JWT')
  }
  throw new UnapprovedSoftwareStatement('this server approves no software statements')
}

export interface RegistrationPolicy {
  /** The request came with an initial access token (or is a configuration update in `token` mode). */
  readonly trusted: boolean
  /** For an update: the client as it is, whose grants it may keep. */
  readonly existing?: ClientRecord
}

/** Redirect URIs a self-registered client may use: RFC 8252 for native apps, https otherwise (open registration). */
function checkRedirects(uris: readonly string[], field: string, trusted: boolean): void {
  for (const uri of uris) {
    let url: URL
    try {
      url = new URL(uri)
    } catch {
      continue // clientRecord names it
    }
    if (FORBIDDEN_SCHEMES.has(url.protocol)) throw new InvalidRedirectUri(`${field}: "${uri}" cannot be a redirect URI`)
    const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)
    if (!trusted && url.protocol === 'http:' && !loopback) {
      throw new InvalidRedirectUri(`${field}: "${uri}" must use https (http only on a loopback address)`)
    }
  }
}

/**
 * The client definition (bootstrap file names) for RFC 7591 metadata, refusing what this server cannot register:
 * unknown names, renamed Tollgate fields, response types other than `code`, admin scopes, and — without an initial
 * access token — grants that act without a user and plain-http redirect URIs.
 *
 * @example
 * const definition = definitionOf(request.body, { trusted: true })
 */
export function definitionOf(metadata: unknown, policy: RegistrationPolicy): Record<string, unknown> {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidClientMetadata('the client metadata must be a JSON object')
  }
  const m = metadata as Record<string, unknown>
  if (m.software_statement !== undefined) softwareStatement(m.software_statement)
  const out: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(m)) {
    if (IGNORED.has(field) || SERVER_SET.has(field) || field === 'client_id' || field === 'client_secret') continue
    const rfc = RENAMED[field]
    if (rfc !== undefined) throw new InvalidClientMetadata(`use the RFC 7591 name "${rfc}" instead of "${field}"`)
    if (['scope', 'client_name', 'token_endpoint_auth_method', 'response_types'].includes(field)) continue
    out[field] = value
  }
  if (m.client_secret !== undefined) throw new InvalidClientMetadata('client_secret is issued by the server')

  const method = m.token_endpoint_auth_method ?? 'client_secret_basic'
  const auth = typeof method === 'string' ? AUTH_METHODS[method] : undefined
  if (!auth) {
    throw new InvalidClientMetadata(`token_endpoint_auth_method must be one of ${Object.keys(AUTH_METHODS).join(', ')}`)
  }
  if (auth.public) out.public = true
  // Named explicitly: that one way only (RFC 7591's default, client_secret_basic, leaves both secret methods open).
  else if (m.token_endpoint_auth_method !== undefined) out.token_endpoint_auth_method = method
  if (m.client_name !== undefined) out.name = m.client_name

  const scopes = words(m.scope, 'scope')
  const admin = scopes.find(isAdminScope)
  if (admin !== undefined) {
    throw new InvalidClientMetadata(`scope "${admin}" is granted only by an administrator (the admin API)`)
  }
  if (m.scope !== undefined) out.scopes = scopes

  // RFC 7591 §2: grant_types defaults to authorization_code, response_types to code; they must agree.
  const grants = m.grant_types === undefined ? ['authorization_code'] : m.grant_types
  out.grant_types = grants
  const responseTypes =
    m.response_types ?? (Array.isArray(grants) && grants.includes('authorization_code') ? ['code'] : [])
  if (!Array.isArray(responseTypes) || responseTypes.some((r) => r !== 'code')) {
    throw new InvalidClientMetadata('response_types may only be ["code"] (authorization code with PKCE)')
  }
  if (Array.isArray(grants) && responseTypes.includes('code') !== grants.includes('authorization_code')) {
    throw new InvalidClientMetadata('response_types "code" goes with the authorization_code grant, and only with it')
  }
  if (!policy.trusted && Array.isArray(grants)) {
    const had = new Set<string>(policy.existing?.grantTypes ?? [])
    const refused = grants.find((g) => typeof g === 'string' && TRUSTED_GRANTS.has(g) && !had.has(g))
    if (refused !== undefined) {
      throw new InvalidClientMetadata(`the ${refused} grant needs an initial access token from an administrator`)
    }
  }
  for (const field of ['redirect_uris', 'post_logout_redirect_uris']) {
    const uris = m[field]
    if (Array.isArray(uris))
      checkRedirects(
        uris.filter((u) => typeof u === 'string'),
        field,
        policy.trusted,
      )
  }
  return out
}

/** A validation failure of the definition, as RFC 7591 §3.2.2 names it. */
export function registrationError(err: ClientValidationError, clientId: string): OAuthError {
  const message = err.message.replace(`client ${clientId}: `, '')
  return err.field === 'redirect_uris' || err.field === 'post_logout_redirect_uris'
    ? new InvalidRedirectUri(message)
    : new InvalidClientMetadata(message)
}

export { ClientValidationError }

/**
 * The RFC 7591 §3.2.1 (and RFC 7592 §3) view of a registered client: its definition with RFC 7591's names where
 * they differ, every other field as the client registered it.
 */
export function metadataOf(
  written: ClientWrite,
  registrationClientUri: string,
  extra: { readonly registrationAccessToken?: string; readonly authMethod?: unknown } = {},
): Record<string, unknown> {
  const c = written.record
  const {
    client_id: _,
    scopes,
    name,
    public: isPublic,
    token_endpoint_auth_method: stored,
    ...rest
  } = clientDefinition(c)
  const method = isPublic
    ? 'none'
    : typeof stored === 'string'
      ? stored
      : typeof extra.authMethod === 'string' && extra.authMethod in AUTH_METHODS && extra.authMethod !== 'none'
        ? extra.authMethod
        : c.secretHash
          ? 'client_secret_basic'
          : 'private_key_jwt'
  return {
    client_id: c.clientId,
    client_id_issued_at: Math.floor(c.createdAt / 1000),
    ...(written.secret === undefined ? {} : { client_secret: written.secret }),
    ...(written.secret !== undefined || c.secretHash ? { client_secret_expires_at: 0 } : {}),
    ...(extra.registrationAccessToken ? { registration_access_token: extra.registrationAccessToken } : {}),
    registration_client_uri: registrationClientUri,
    token_endpoint_auth_method: method,
    ...rest,
    response_types: c.grantTypes.includes('authorization_code') ? ['code'] : [],
    ...(Array.isArray(scopes) && scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    ...(name === undefined ? {} : { client_name: name }),
  }
}
