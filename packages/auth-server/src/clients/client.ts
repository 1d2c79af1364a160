// Validates client definitions (bootstrap file, CLI) into ClientRecords.
import { isSigningAlgorithm, SIGNING_ALGORITHMS, type SigningAlgorithm, TollgateError } from '@tollgate/shared'
import { fapi2Problem, type Profile } from '../profile/fapi2.js'
import { isScopeToken } from '../scope.js'
import {
  type ClientRecord,
  GRANT_TYPES,
  type GrantType,
  TOKEN_EXCHANGE,
  type TokenExchangePolicy,
} from '../store/types.js'
import { authMethodField, federatedIdentitiesField, jwksField, jwksUriField } from './credentials.js'
import type { SecretHasher } from './secrets.js'

/** A client definition as written in the bootstrap file or given to the CLI. */
export interface ClientInput {
  client_id: string
  client_secret?: string
  public?: boolean
  name?: string
  grant_types: string[]
  scopes?: string[]
  audiences?: string[]
  redirect_uris?: string[]
  allowed_origins?: string[]
  /** RFC 9449 §5.2: every token request must carry a DPoP proof. */
  dpop_bound_access_tokens?: boolean
  /** RFC 8693: exchange tokens addressed to `subject_audiences` for tokens addressed to `audiences`. */
  token_exchange?: { subject_audiences: string[]; audiences: string[] }
  /** OIDC RP-Initiated Logout: exact URIs `/oauth/logout` may redirect to. */
  post_logout_redirect_uris?: string[]
  /** OIDC Dynamic Client Registration §2 / RFC 7591: the `alg` of this client's ID tokens (default RS256). */
  id_token_signed_response_alg?: string
  /** RFC 7591: how it must authenticate; default any way it has credentials for. */
  token_endpoint_auth_method?: string
  /** RFC 7591: its public keys, for `private_key_jwt` (or `jwks_uri`). */
  jwks?: { keys: Record<string, unknown>[] }
  jwks_uri?: string
  /** Workload identity federation: the platform identities (issuer + subject) that are this client. */
  federated_identities?: { issuer: string; subject: string }[]
  /** RFC 9126 §6: authorization requests only through the pushed authorization request endpoint. */
  require_pushed_authorization_requests?: boolean
}

/** What a client definition is checked against besides itself. */
export interface ClientValidationOptions {
  /** SIGNING_ALGS: the algorithms `id_token_signed_response_alg` may name. Default: every algorithm Tollgate signs. */
  readonly signingAlgs?: readonly SigningAlgorithm[]
  /** The bootstrap file's `trusted_issuers`: a federated identity must name one. Default: not checked (the CLI). */
  readonly trustedIssuers?: ReadonlySet<string>
  /** PROFILE: under `fapi2` a client that cannot meet the FAPI 2.0 Security Profile is refused, with the reason. */
  readonly profile?: Profile
}

/** Every field a client definition may have: anything else is a typo that must not silently drop a setting. */
const FIELDS = new Set([
  'client_id',
  'client_secret',
  'public',
  'name',
  'grant_types',
  'scopes',
  'audiences',
  'redirect_uris',
  'allowed_origins',
  'dpop_bound_access_tokens',
  'token_exchange',
  'post_logout_redirect_uris',
  'id_token_signed_response_alg',
  'token_endpoint_auth_method',
  'jwks',
  'jwks_uri',
  'federated_identities',
  'require_pushed_authorization_requests',
])
const EXCHANGE_FIELDS = new Set(['subject_audiences', 'audiences'])

/** A client definition is unusable; the message says what is wrong (never the secret). */
export class ClientValidationError extends TollgateError {
  /** The field at fault, where it matters to the caller (`redirect_uris`: RFC 7591's `invalid_redirect_uri`). */
  readonly field: string | undefined

  constructor(message: string, field?: string) {
    super('ERR_CLIENT_INVALID', message)
    this.field = field
  }
}

const CLIENT_ID = /^[A-Za-z0-9._~:-]{1,128}$/
export const MIN_SECRET_LENGTH = 32

function stringArray(value: unknown, field: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new ClientValidationError(`${field} must be an array of non-empty strings`)
  }
  return [...new Set(value as string[])]
}

function absoluteUri(value: string, field: string, { noFragment = true } = {}): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ClientValidationError(`${field}: "${value}" is not an absolute URI`, field)
  }
  if (noFragment && (url.hash || value.includes('#')))
    throw new ClientValidationError(`${field}: "${value}" has a fragment`, field)
  return value
}

function origin(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ClientValidationError(`allowed_origins: "${value}" is not an origin`)
  }
  if (url.origin === 'null' || url.origin !== value.replace(/\/$/, '')) {
    throw new ClientValidationError(`allowed_origins: "${value}" must be scheme://host[:port] only`)
  }
  return url.origin
}

/** The `token_exchange` field: required with the token-exchange grant, refused without it. */
function exchangePolicy(
  value: unknown,
  grantTypes: readonly string[],
  where: (msg: string) => ClientValidationError,
): TokenExchangePolicy | undefined {
  const listed = grantTypes.includes(TOKEN_EXCHANGE)
  if (value === undefined) {
    if (listed) throw where(`token_exchange is required with the ${TOKEN_EXCHANGE} grant`)
    return undefined
  }
  if (!listed) throw where(`token_exchange needs the ${TOKEN_EXCHANGE} grant in grant_types`)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw where('token_exchange must be an object { "subject_audiences": [...], "audiences": [...] }')
  }
  const unknown = Object.keys(value).find((field) => !EXCHANGE_FIELDS.has(field))
  if (unknown !== undefined) throw where(`token_exchange: unknown field "${unknown}"`)
  const list = (field: 'subject_audiences' | 'audiences') => {
    let uris: string[]
    try {
      uris = stringArray((value as Record<string, unknown>)[field], `token_exchange.${field}`).map((a) =>
        absoluteUri(a, `token_exchange.${field}`),
      )
    } catch (err) {
      throw where((err as Error).message)
    }
    if (uris.length === 0) throw where(`token_exchange.${field} must list at least one resource URI`)
    return uris
  }
  return { subjectAudiences: list('subject_audiences'), audiences: list('audiences') }
}

/**
 * Checks a client definition and hashes its secret.
 *
 * @example
 * const record = clientRecord({ client_id: 'orders-svc', client_secret, grant_types: ['client_credentials'] }, hasher, Date.now())
 */
export function clientRecord(
  input: ClientInput,
  hasher: SecretHasher,
  createdAt: number,
  options: ClientValidationOptions = {},
): ClientRecord {
  if (typeof input !== 'object' || input === null) throw new ClientValidationError('client must be an object')
  const id = input.client_id
  if (typeof id !== 'string' || !CLIENT_ID.test(id)) {
    throw new ClientValidationError('client_id must be 1-128 characters of A-Z a-z 0-9 . _ ~ : -')
  }
  const where = (msg: string, field?: string) => new ClientValidationError(`client ${id}: ${msg}`, field)
  const unknown = Object.keys(input).find((field) => !FIELDS.has(field))
  if (unknown !== undefined) throw where(`unknown field "${unknown}"`)
  const dpopBound = input.dpop_bound_access_tokens
  if (dpopBound !== undefined && typeof dpopBound !== 'boolean')
    throw where('dpop_bound_access_tokens must be true or false')
  const requirePar = input.require_pushed_authorization_requests
  if (requirePar !== undefined && typeof requirePar !== 'boolean')
    throw where('require_pushed_authorization_requests must be true or false')
  const isPublic = input.public === true
  if (input.public !== undefined && typeof input.public !== 'boolean') throw where('public must be true or false')
  const grantTypes = stringArray(input.grant_types, 'grant_types')
  if (grantTypes.length === 0) throw where('grant_types must list at least one grant')
  for (const g of grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(g)) throw where(`unknown grant type "${g}"`)
  }
  if (isPublic && grantTypes.includes('client_credentials'))
    throw where('a public client cannot use client_credentials')
  if (isPublic && input.client_secret !== undefined) throw where('a public client has no client_secret')
  if (isPublic && grantTypes.includes(TOKEN_EXCHANGE)) throw where('a public client cannot exchange tokens')
  const tokenExchange = exchangePolicy(input.token_exchange, grantTypes, where)
  const credentials = credentialsOf(input, isPublic, where, options.trustedIssuers)
  const scopes = stringArray(input.scopes, 'scopes')
  for (const s of scopes) if (!isScopeToken(s)) throw where(`"${s}" is not a valid scope`)
  const audiences = stringArray(input.audiences, 'audiences').map((a) => absoluteUri(a, 'audiences'))
  if (audiences.length === 0)
    throw where('audiences must list at least one resource URI (the first is the default aud)')
  const redirectUris = stringArray(input.redirect_uris, 'redirect_uris').map((u) => absoluteUri(u, 'redirect_uris'))
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    throw where('authorization_code needs at least one redirect_uri', 'redirect_uris')
  }
  const allowedOrigins = stringArray(input.allowed_origins, 'allowed_origins').map(origin)
  let postLogout: string[]
  try {
    postLogout = stringArray(input.post_logout_redirect_uris, 'post_logout_redirect_uris').map((u) =>
      absoluteUri(u, 'post_logout_redirect_uris'),
    )
  } catch (err) {
    throw where((err as Error).message, 'post_logout_redirect_uris')
  }
  if (input.name !== undefined && typeof input.name !== 'string') throw where('name must be a string')
  const idTokenAlg = idTokenAlgorithm(input.id_token_signed_response_alg, options.signingAlgs, where)

  const record: ClientRecord = {
    clientId: id,
    public: isPublic,
    grantTypes: grantTypes as GrantType[],
    scopes,
    audiences,
    redirectUris,
    allowedOrigins,
    createdAt,
    ...(typeof input.client_secret === 'string' ? { secretHash: hasher.hash(input.client_secret) } : {}),
    ...credentials,
    ...(input.name === undefined ? {} : { name: input.name }),
    ...(dpopBound ? { dpopBoundAccessTokens: true } : {}),
    ...(tokenExchange ? { tokenExchange } : {}),
    ...(postLogout.length > 0 ? { postLogoutRedirectUris: postLogout } : {}),
    ...(idTokenAlg ? { idTokenSignedResponseAlg: idTokenAlg } : {}),
    ...(requirePar ? { requirePushedAuthorizationRequests: true } : {}),
  }
  if (options.profile === 'fapi2') {
    const problem = fapi2Problem(record)
    if (problem !== undefined) throw where(problem)
  }
  return record
}

/** `id_token_signed_response_alg`: an algorithm the server keeps keys for (RS256, the default, always is). */
function idTokenAlgorithm(
  value: unknown,
  signingAlgs: readonly SigningAlgorithm[] = SIGNING_ALGORITHMS,
  where: (msg: string) => ClientValidationError,
): SigningAlgorithm | undefined {
  if (value === undefined) return undefined
  if (!isSigningAlgorithm(value)) {
    throw where(`id_token_signed_response_alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`)
  }
  if (!signingAlgs.includes(value)) {
    throw where(`id_token_signed_response_alg ${value} is not in SIGNING_ALGS (${signingAlgs.join(',')})`)
  }
  return value
}

/**
 * What a client authenticates with besides (or instead of) a secret: a confidential client needs at least one of a
 * `client_secret`, keys (`jwks` or `jwks_uri`, not both) or `federated_identities`; a public client none of them; a
 * `token_endpoint_auth_method` must name a way the client has credentials for.
 */
function credentialsOf(
  input: ClientInput,
  isPublic: boolean,
  where: (msg: string) => ClientValidationError,
  trustedIssuers: ReadonlySet<string> | undefined,
): Pick<ClientRecord, 'tokenEndpointAuthMethod' | 'jwks' | 'jwksUri' | 'federatedIdentities'> {
  const method = authMethodField(input.token_endpoint_auth_method, where)
  const jwks = jwksField(input.jwks, where)
  const jwksUri = jwksUriField(input.jwks_uri, where)
  const identities = federatedIdentitiesField(input.federated_identities, where, trustedIssuers)
  const secret = input.client_secret
  if (isPublic) {
    if (jwks || jwksUri || identities) throw where('a public client has no keys or federated identities')
    if (method !== undefined && method !== 'none') throw where('a public client authenticates with "none"')
    return method ? { tokenEndpointAuthMethod: method } : {}
  }
  if (jwks && jwksUri) throw where('jwks and jwks_uri: register one of them, not both (RFC 7591 §2)')
  if (secret === undefined && !jwks && !jwksUri && !identities) {
    throw where(
      'a confidential client needs a client_secret, jwks, jwks_uri or federated_identities (or "public": true)',
    )
  }
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH)) {
    throw where(`client_secret must be at least ${MIN_SECRET_LENGTH} characters (try: openssl rand -base64 32)`)
  }
  if (method === 'none') throw where('token_endpoint_auth_method "none" is for public clients')
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && secret === undefined) {
    throw where(`token_endpoint_auth_method ${method} needs a client_secret`)
  }
  if (method === 'private_key_jwt' && !jwks && !jwksUri && !identities) {
    throw where('token_endpoint_auth_method private_key_jwt needs jwks, jwks_uri or federated_identities')
  }
  return {
    ...(method ? { tokenEndpointAuthMethod: method } : {}),
    ...(jwks ? { jwks } : {}),
    ...(jwksUri ? { jwksUri } : {}),
    ...(identities ? { federatedIdentities: identities } : {}),
  }
}
