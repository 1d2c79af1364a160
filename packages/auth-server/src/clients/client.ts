// Validates client definitions (bootstrap file, CLI) into ClientRecords.
import { isSigningAlgorithm, SIGNING_ALGORITHMS, type SigningAlgorithm, TollgateError } from '@tollgate/shared'
import { isScopeToken } from '../scope.js'
import {
  type ClientRecord,
  GRANT_TYPES,
  type GrantType,
  TOKEN_EXCHANGE,
  type TokenExchangePolicy,
} from '../store/types.js'
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
}

/** What a client definition is checked against besides itself. */
export interface ClientValidationOptions {
  /** SIGNING_ALGS: the algorithms `id_token_signed_response_alg` may name. Default: every algorithm Tollgate signs. */
  readonly signingAlgs?: readonly SigningAlgorithm[]
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
])
const EXCHANGE_FIELDS = new Set(['subject_audiences', 'audiences'])

/** A client definition is unusable; the message says what is wrong (never the secret). */
export class ClientValidationError extends TollgateError {
  constructor(message: string) {
    super('ERR_CLIENT_INVALID', message)
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
    throw new ClientValidationError(`${field}: "${value}" is not an absolute URI`)
  }
  if (noFragment && (url.hash || value.includes('#')))
    throw new ClientValidationError(`${field}: "${value}" has a fragment`)
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
  const where = (msg: string) => new ClientValidationError(`client ${id}: ${msg}`)
  const unknown = Object.keys(input).find((field) => !FIELDS.has(field))
  if (unknown !== undefined) throw where(`unknown field "${unknown}"`)
  const dpopBound = input.dpop_bound_access_tokens
  if (dpopBound !== undefined && typeof dpopBound !== 'boolean')
    throw where('dpop_bound_access_tokens must be true or false')
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
  if (!isPublic) {
    if (typeof input.client_secret !== 'string')
      throw where('a confidential client needs a client_secret (or "public": true)')
    if (input.client_secret.length < MIN_SECRET_LENGTH) {
      throw where(`client_secret must be at least ${MIN_SECRET_LENGTH} characters (try: openssl rand -base64 32)`)
    }
  }
  const scopes = stringArray(input.scopes, 'scopes')
  for (const s of scopes) if (!isScopeToken(s)) throw where(`"${s}" is not a valid scope`)
  const audiences = stringArray(input.audiences, 'audiences').map((a) => absoluteUri(a, 'audiences'))
  if (audiences.length === 0)
    throw where('audiences must list at least one resource URI (the first is the default aud)')
  const redirectUris = stringArray(input.redirect_uris, 'redirect_uris').map((u) => absoluteUri(u, 'redirect_uris'))
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    throw where('authorization_code needs at least one redirect_uri')
  }
  const allowedOrigins = stringArray(input.allowed_origins, 'allowed_origins').map(origin)
  let postLogout: string[]
  try {
    postLogout = stringArray(input.post_logout_redirect_uris, 'post_logout_redirect_uris').map((u) =>
      absoluteUri(u, 'post_logout_redirect_uris'),
    )
  } catch (err) {
    throw where((err as Error).message)
  }
  if (input.name !== undefined && typeof input.name !== 'string') throw where('name must be a string')
  const idTokenAlg = idTokenAlgorithm(input.id_token_signed_response_alg, options.signingAlgs, where)

  return {
    clientId: id,
    public: isPublic,
    grantTypes: grantTypes as GrantType[],
    scopes,
    audiences,
    redirectUris,
    allowedOrigins,
    createdAt,
    ...(isPublic ? {} : { secretHash: hasher.hash(input.client_secret as string) }),
    ...(input.name === undefined ? {} : { name: input.name }),
    ...(dpopBound ? { dpopBoundAccessTokens: true } : {}),
    ...(tokenExchange ? { tokenExchange } : {}),
    ...(postLogout.length > 0 ? { postLogoutRedirectUris: postLogout } : {}),
    ...(idTokenAlg ? { idTokenSignedResponseAlg: idTokenAlg } : {}),
  }
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
