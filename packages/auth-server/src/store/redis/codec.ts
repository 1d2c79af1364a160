// How records are laid out in Redis: key names (with hash tags for Cluster) and field encodings.
import { isSigningAlgorithm } from '@tollgate/shared'
import type {
  ClientRecord,
  FederatedIdentity,
  GrantType,
  RefreshedSession,
  RefreshTokenInfo,
  RotateResult,
  SessionInfo,
  TokenEndpointAuthMethod,
  UserRecord,
} from '../types.js'

/**
 * Key names, relative to the configured prefix. Everything about one user —
 * the user hash (which also indexes the user's sessions as `s:<fid>` fields)
 * and every token family — shares the `{sub}` hash tag, so scripts touching
 * them run on one Redis Cluster slot.
 */
export const keys = {
  user: (sub: string) => `user:{${sub}}`,
  username: (normalized: string) => `username:${normalized}`,
  users: () => 'users',
  client: (clientId: string) => `client:${clientId}`,
  clients: () => 'clients',
  family: (sub: string, fid: string) => `rt:{${sub}}:${fid}`,
  /** Not a key: the prefix a script appends a fid to (same hash tag, same slot). */
  familyPrefix: (sub: string) => `rt:{${sub}}:`,
  /** The revocation log and the denials share one hash tag: one script records both, one MGET reads them. */
  revocationLog: () => '{rev}:log',
  denial: (kind: 'sid' | 'sub' | 'jti' | 'client', id: string) => `{rev}:${kind}:${id}`,
  /** The audit log shares the revocation tag: a revocation and its audit event are one script, in a Cluster too. */
  auditLog: () => '{rev}:audit',
  /** A session's public id → `<sub> <fid>`, so an administrator can end a session by its id alone. */
  sessionIndex: (sid: string) => `sid:${sid}`,
  initialToken: (id: string) => `iat:${id}`,
  /** Live initial access tokens by expiry (a sorted set), for listing. */
  initialTokens: () => 'iats',
  code: (codeHash: string) => `code:${codeHash}`,
  pushedRequest: (id: string) => `par:${id}`,
  device: (deviceCodeHash: string) => `device:{${deviceCodeHash}}`,
  userCode: (userCode: string) => `usercode:${userCode}`,
  failures: (subject: string) => `bf:${subject}`,
  rate: (subject: string) => `ratelimit:${subject}`,
  proofId: (hash: string) => `dpop:${hash}`,
  /** A client assertion's `client_id` and `jti`, hashed: accepted once. */
  assertionId: (hash: string) => `assertion:${hash}`,
  /** Written once into a store that holds data; its absence means the data is gone. */
  marker: () => 'meta:marker',
}

/** User fields that may be absent; cleared explicitly when a user is updated. */
export const OPTIONAL_USER_FIELDS = ['email', 'email_verified', 'name', 'picture']

export function encodeUser(user: UserRecord): Record<string, string> {
  const fields: Record<string, string> = {
    sub: user.sub,
    username: user.username,
    password_hash: user.passwordHash,
    roles: JSON.stringify(user.roles),
    disabled: user.disabled ? '1' : '0',
    created_at: String(user.createdAt),
    updated_at: String(user.updatedAt),
  }
  if (user.email !== undefined) fields.email = user.email
  if (user.emailVerified !== undefined) fields.email_verified = user.emailVerified ? '1' : '0'
  if (user.name !== undefined) fields.name = user.name
  if (user.picture !== undefined) fields.picture = user.picture
  return fields
}

export function decodeUser(fields: Record<string, string>): UserRecord | undefined {
  if (!fields.sub || !fields.username) return undefined
  return {
    sub: fields.sub,
    username: fields.username,
    passwordHash: fields.password_hash ?? '',
    roles: JSON.parse(fields.roles ?? '[]') as string[],
    disabled: fields.disabled === '1',
    createdAt: Number(fields.created_at),
    updatedAt: Number(fields.updated_at),
    ...(fields.email === undefined ? {} : { email: fields.email }),
    ...(fields.email_verified === undefined ? {} : { emailVerified: fields.email_verified === '1' }),
    ...(fields.name === undefined ? {} : { name: fields.name }),
    ...(fields.picture === undefined ? {} : { picture: fields.picture }),
  }
}

export function encodeClient(client: ClientRecord): string {
  return JSON.stringify({
    client_id: client.clientId,
    secret_hash: client.secretHash,
    public: client.public,
    name: client.name,
    grant_types: client.grantTypes,
    scopes: client.scopes,
    audiences: client.audiences,
    redirect_uris: client.redirectUris,
    allowed_origins: client.allowedOrigins,
    ...(client.dpopBoundAccessTokens ? { dpop_bound_access_tokens: true } : {}),
    ...(client.tokenExchange
      ? {
          token_exchange: {
            subject_audiences: client.tokenExchange.subjectAudiences,
            audiences: client.tokenExchange.audiences,
          },
        }
      : {}),
    ...(client.postLogoutRedirectUris ? { post_logout_redirect_uris: client.postLogoutRedirectUris } : {}),
    ...(client.registrationTokenHash ? { registration_token_hash: client.registrationTokenHash } : {}),
    ...(client.idTokenSignedResponseAlg ? { id_token_signed_response_alg: client.idTokenSignedResponseAlg } : {}),
    ...(client.tokenEndpointAuthMethod ? { token_endpoint_auth_method: client.tokenEndpointAuthMethod } : {}),
    ...(client.jwks ? { jwks: client.jwks } : {}),
    ...(client.jwksUri ? { jwks_uri: client.jwksUri } : {}),
    ...(client.federatedIdentities ? { federated_identities: client.federatedIdentities } : {}),
    ...(client.requirePushedAuthorizationRequests ? { require_pushed_authorization_requests: true } : {}),
    created_at: client.createdAt,
    ...(client.updatedAt === undefined ? {} : { updated_at: client.updatedAt }),
  })
}

export function decodeClient(json: string): ClientRecord {
  const raw = JSON.parse(json) as Record<string, unknown>
  return {
    clientId: raw.client_id as string,
    public: raw.public === true,
    grantTypes: (raw.grant_types ?? []) as GrantType[],
    scopes: (raw.scopes ?? []) as string[],
    audiences: (raw.audiences ?? []) as string[],
    redirectUris: (raw.redirect_uris ?? []) as string[],
    allowedOrigins: (raw.allowed_origins ?? []) as string[],
    createdAt: Number(raw.created_at),
    ...(typeof raw.updated_at === 'number' ? { updatedAt: raw.updated_at } : {}),
    ...(typeof raw.secret_hash === 'string' ? { secretHash: raw.secret_hash } : {}),
    ...(typeof raw.registration_token_hash === 'string' ? { registrationTokenHash: raw.registration_token_hash } : {}),
    ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
    ...(raw.dpop_bound_access_tokens === true ? { dpopBoundAccessTokens: true } : {}),
    ...(raw.require_pushed_authorization_requests === true ? { requirePushedAuthorizationRequests: true } : {}),
    ...(Array.isArray(raw.post_logout_redirect_uris)
      ? { postLogoutRedirectUris: raw.post_logout_redirect_uris as string[] }
      : {}),
    ...(isSigningAlgorithm(raw.id_token_signed_response_alg)
      ? { idTokenSignedResponseAlg: raw.id_token_signed_response_alg }
      : {}),
    ...(typeof raw.token_endpoint_auth_method === 'string'
      ? { tokenEndpointAuthMethod: raw.token_endpoint_auth_method as TokenEndpointAuthMethod }
      : {}),
    ...(isJwks(raw.jwks) ? { jwks: raw.jwks } : {}),
    ...(typeof raw.jwks_uri === 'string' ? { jwksUri: raw.jwks_uri } : {}),
    ...(Array.isArray(raw.federated_identities)
      ? { federatedIdentities: raw.federated_identities as FederatedIdentity[] }
      : {}),
    ...(isExchange(raw.token_exchange)
      ? {
          tokenExchange: {
            subjectAudiences: raw.token_exchange.subject_audiences,
            audiences: raw.token_exchange.audiences,
          },
        }
      : {}),
  }
}

function isJwks(value: unknown): value is { keys: Record<string, unknown>[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys)
}

function isExchange(value: unknown): value is { subject_audiences: string[]; audiences: string[] } {
  const v = value as { subject_audiences?: unknown; audiences?: unknown } | null | undefined
  return typeof v === 'object' && v !== null && Array.isArray(v.subject_audiences) && Array.isArray(v.audiences)
}

const words = (value: string | undefined): string[] => (value ?? '').split(' ').filter(Boolean)

/** The session part of a rotate-refresh reply: scope, audience, auth_time, expires, then the user fields. */
function decodeRefreshed(sub: string, fields: string[]): RefreshedSession {
  const [scope, audience, authTime, expires, roles, username, name, email, emailVerified, picture] = fields
  return {
    scope: words(scope),
    audience: words(audience),
    authTime: Number(authTime),
    expiresAt: Number(expires),
    user: {
      sub,
      username: username ?? '',
      roles: JSON.parse(roles || '[]') as string[],
      ...(name ? { name } : {}),
      ...(email ? { email, emailVerified: emailVerified === '1' } : {}),
      ...(picture ? { picture } : {}),
    },
  }
}

/** A rotate-refresh reply (see lua/rotate-refresh-2.lua); `late` is the caller's to handle. */
export function decodeRotate(sub: string, reply: string[]): RotateResult | { readonly outcome: 'late' } {
  const [outcome, ...rest] = reply
  switch (outcome) {
    case 'rotated':
      return { outcome, session: decodeRefreshed(sub, rest) }
    case 'replay':
      return {
        outcome,
        sealedSuccessor: rest[0] ?? '',
        currentHash: rest[1] ?? '',
        session: decodeRefreshed(sub, rest.slice(2)),
      }
    case 'reuse':
      return { outcome, clientId: rest[0] ?? '' }
    case 'invalid':
    case 'wrong_client':
    case 'disabled':
    case 'invalid_scope':
    case 'invalid_target':
    case 'wrong_key':
    case 'late':
      return { outcome }
    default:
      throw new Error(`rotate-refresh returned ${String(outcome)}`)
  }
}

/** An inspect-refresh reply: empty when the token is not the family's current one. */
export function decodeRefreshInfo(reply: string[]): RefreshTokenInfo | undefined {
  if (reply.length === 0) return undefined
  const [clientId, scope, audience, createdAt, expiresAt] = reply
  return {
    clientId: clientId ?? '',
    scope: words(scope),
    audience: words(audience),
    createdAt: Number(createdAt),
    expiresAt: Number(expiresAt),
  }
}

/** A list-sessions reply: seven entries per session, oldest first after sorting. */
export function decodeSessions(flat: string[]): SessionInfo[] {
  const sessions: SessionInfo[] = []
  for (let i = 0; i + 6 < flat.length; i += 7) {
    const [fid, clientId, createdAt, lastUsedAt, userAgent, expiresAt, scope] = flat.slice(i, i + 7)
    sessions.push({
      fid: fid ?? '',
      clientId: clientId ?? '',
      createdAt: Number(createdAt),
      lastUsedAt: Number(lastUsedAt),
      expiresAt: Number(expiresAt),
      scope: words(scope),
      ...(userAgent ? { userAgent } : {}),
    })
  }
  return sessions.sort((a, b) => a.createdAt - b.createdAt)
}
