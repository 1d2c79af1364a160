// RFC 7591 dynamic client registration and RFC 7592 client configuration: who may register (REGISTRATION and the
// initial access token), the registration access token a client then manages itself with, each step audited.
import { bearerToken, InvalidTokenError, MissingTokenError } from '@tollgate/shared'
import { createClient, deleteClient, newClientId, replaceClient, rotateClientSecret } from '../admin/clients.js'
import type { AdminDeps } from '../admin/deps.js'
import type { AuditContext } from '../audit/event.js'
import { ClientValidationError } from '../clients/client.js'
import { generateSecret } from '../clients/secrets.js'
import type { Config } from '../config.js'
import { InvalidClientMetadata } from '../errors.js'
import type { ClientRecord, InitialAccessTokenRecord } from '../store/types.js'
import { findInitialAccessToken } from './initial-access-tokens.js'
import { definitionOf, metadataOf, registrationError } from './metadata.js'

export interface RegistrationDeps extends AdminDeps {
  readonly config: Pick<Config, 'registration' | 'baseUrl' | 'issuer'>
}

/** Where a registered client manages itself (RFC 7592 §1). */
export const configurationUri = (config: Pick<Config, 'baseUrl'>, clientId: string) =>
  `${config.baseUrl}/oauth/register/${encodeURIComponent(clientId)}`

/**
 * The bearer token of a request, or undefined when it carries none. A malformed header throws the shared
 * verifier's InvalidRequestError; the route answers every TollgateTokenError as RFC 6750 says.
 */
function presented(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined
  try {
    return bearerToken(authorization)
  } catch (err) {
    if (err instanceof MissingTokenError) return undefined
    throw err
  }
}

/** A refused credential: audited, then 401 `invalid_token` (RFC 7591 §3, RFC 7592 §2). */
function refuse(deps: RegistrationDeps, by: AuditContext, reason: string, description: string): never {
  deps.audit.emit('client.registration_refused', by, { outcome: 'failure', details: { reason } })
  throw new InvalidTokenError('ERR_TOKEN_CLAIM', description)
}

/** A ClientValidationError as its RFC 7591 error; anything else unchanged. */
function asRegistrationError(err: unknown, clientId: string): never {
  if (err instanceof ClientValidationError) throw registrationError(err, clientId)
  throw err
}

/**
 * RFC 7591 §3.1: registers a client from its metadata. With REGISTRATION=token an initial access token is required
 * (and spent); with `open` anyone may register a client that acts for users (an initial access token still unlocks
 * the rest). Answers the RFC 7591 §3.2.1 body, with the client secret and the registration access token, once.
 */
export async function register(
  deps: RegistrationDeps,
  metadata: unknown,
  authorization: string | undefined,
  by: AuditContext,
): Promise<Record<string, unknown>> {
  const token = presented(authorization)
  let initial: InitialAccessTokenRecord | undefined
  if (token !== undefined) {
    initial = await findInitialAccessToken(deps, token, deps.now())
    if (!initial)
      refuse(deps, by, 'bad_initial_access_token', 'the initial access token is invalid, expired or used up')
  } else if (deps.config.registration === 'token') {
    deps.audit.emit('client.registration_refused', by, {
      outcome: 'failure',
      details: { reason: 'no_initial_access_token' },
    })
    throw new MissingTokenError()
  }
  const definition = definitionOf(metadata, { trusted: initial !== undefined })
  const actor: AuditContext = initial ? { ...by, actor: { type: 'initial_access_token', id: initial.id } } : by
  const registrationToken = generateSecret()
  const clientId = newClientId()
  // The token is spent only once the metadata passed validation: a refused registration leaves it as it was.
  const spend = async () => {
    if (initial && (await deps.store.useInitialAccessToken(initial.id, deps.now())) === undefined) {
      refuse(deps, by, 'initial_access_token_used_up', 'the initial access token is invalid, expired or used up')
    }
  }
  try {
    const written = await createClient(deps, { ...definition, client_id: clientId }, actor, spend, {
      type: 'client.registered',
      registrationTokenHash: deps.secrets.hash(registrationToken),
    })
    return metadataOf(written, configurationUri(deps.config, clientId), {
      registrationAccessToken: registrationToken,
      authMethod: (metadata as Record<string, unknown>).token_endpoint_auth_method,
    })
  } catch (err) {
    asRegistrationError(err, clientId)
  }
}

/**
 * RFC 7592 §2: the client a registration access token manages. A wrong token, a token for another client and a
 * client that no longer exists are one answer: 401 (RFC 7592 §2.1-2.3).
 */
export async function configuredClient(
  deps: RegistrationDeps,
  clientId: string,
  authorization: string | undefined,
  by: AuditContext,
): Promise<ClientRecord> {
  const token = presented(authorization)
  if (token === undefined) throw new MissingTokenError()
  const client = clientId.length <= 128 ? await deps.store.getClient(clientId) : undefined
  if (!deps.secrets.verify(token, client?.registrationTokenHash) || !client) {
    return refuse(deps, by, 'bad_registration_access_token', 'the registration access token is invalid')
  }
  return client
}

/** RFC 7592 §2.1. */
export function read(deps: RegistrationDeps, client: ClientRecord): Record<string, unknown> {
  return metadataOf({ record: client }, configurationUri(deps.config, client.clientId))
}

/**
 * RFC 7592 §2.2: replaces the client's metadata (fields left out take their defaults). `client_id` must be the
 * client's; a `client_secret` sent back must be the current one (it never sets a new one).
 */
export async function update(
  deps: RegistrationDeps,
  client: ClientRecord,
  metadata: unknown,
  by: AuditContext,
): Promise<Record<string, unknown>> {
  const m = (typeof metadata === 'object' && metadata !== null ? metadata : {}) as Record<string, unknown>
  if (m.client_id !== client.clientId) {
    throw new InvalidClientMetadata('client_id must be given, and be this client’s')
  }
  if (m.client_secret !== undefined && !deps.secrets.verify(String(m.client_secret), client.secretHash)) {
    throw new InvalidClientMetadata('client_secret does not match the current secret (rotate it with POST …/secret)')
  }
  const { client_secret: _, ...rest } = m
  const definition = definitionOf(rest, {
    trusted: deps.config.registration === 'token',
    existing: client,
  })
  try {
    const written = await replaceClient(
      deps,
      client.clientId,
      definition,
      by,
      String(client.updatedAt ?? client.createdAt),
    )
    return metadataOf(written, configurationUri(deps.config, client.clientId), {
      authMethod: m.token_endpoint_auth_method,
    })
  } catch (err) {
    asRegistrationError(err, client.clientId)
  }
}

/** RFC 7592 §2.3: the client is removed and every token it holds refused. */
export async function remove(deps: RegistrationDeps, client: ClientRecord, by: AuditContext): Promise<void> {
  await deleteClient(deps, client.clientId, by, undefined)
}

/** Tollgate's addition to RFC 7592: a new client secret, shown once (the old one stops working). */
export async function rotateSecret(
  deps: RegistrationDeps,
  client: ClientRecord,
  by: AuditContext,
): Promise<Record<string, unknown>> {
  try {
    const written = await rotateClientSecret(deps, client.clientId, by, undefined)
    return metadataOf(written, configurationUri(deps.config, client.clientId))
  } catch (err) {
    asRegistrationError(err, client.clientId)
  }
}
