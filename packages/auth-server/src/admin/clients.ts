// Managing clients, for the admin API, RFC 7592 and the CLI alike: the same validation as the bootstrap file, every
// change conditional on the version read and audited, a removal revoking every token the client holds.
import { randomBytes } from 'node:crypto'
import type { AuditContext, AuditEventType } from '../audit/event.js'
import { type ClientInput, ClientValidationError, clientRecord } from '../clients/client.js'
import { CONSOLE_CLIENT_ID, reservedId } from '../clients/console-client.js'
import { generateSecret } from '../clients/secrets.js'
// The store's encoding of a client is its definition in the bootstrap file's names (and nothing Redis-specific).
import { encodeClient } from '../store/redis/codec.js'
import { type ClientRecord, versionOf, WriteConflictError } from '../store/types.js'
import { type AdminDeps, nextVersion } from './deps.js'

/** A client as the admin API shows it: the bootstrap file's field names, never a secret or a hash. */
export interface ClientJson {
  client_id: string
  public: boolean
  name?: string
  grant_types: string[]
  scopes: string[]
  audiences: string[]
  redirect_uris: string[]
  allowed_origins: string[]
  dpop_bound_access_tokens: boolean
  token_exchange?: { subject_audiences: string[]; audiences: string[] }
  post_logout_redirect_uris: string[]
  /** Registered through RFC 7591: it holds a registration access token to manage itself. */
  dynamically_registered: boolean
  created_at: string
  updated_at: string
  /** Any other field of the definition (whatever the bootstrap file accepts). */
  [field: string]: unknown
}

/** Fields the API shows but a client definition does not set: accepted back (GET, edit, PUT) and ignored. */
const READ_ONLY = ['created_at', 'updated_at', 'dynamically_registered'] as const

/**
 * A client's definition in the bootstrap file's names, as the store keeps it, without its hashes and times. Taken
 * from the store's own encoding, which holds every field (the store suite proves it): a field added to client
 * definitions shows here, survives a PATCH and round-trips through a PUT without this module knowing it.
 */
export function clientDefinition(c: ClientRecord): Record<string, unknown> {
  const {
    secret_hash: _secret,
    registration_token_hash: _registration,
    created_at: _created,
    updated_at: _updated,
    ...definition
  } = JSON.parse(encodeClient(c)) as Record<string, unknown>
  return definition
}

export function clientJson(c: ClientRecord): ClientJson {
  return {
    dpop_bound_access_tokens: false,
    post_logout_redirect_uris: [],
    ...clientDefinition(c),
    dynamically_registered: c.registrationTokenHash !== undefined,
    created_at: new Date(c.createdAt).toISOString(),
    updated_at: new Date(c.updatedAt ?? c.createdAt).toISOString(),
  } as unknown as ClientJson
}

/** The definition a record was made from (without its secret), for a PATCH to merge into. */
const inputOf = clientDefinition

/** A client id for a definition that names none: 128 random bits. */
export const newClientId = (): string => randomBytes(16).toString('base64url')

/**
 * A check the caller makes on a valid client about to be written (an administrator granting only what they hold;
 * a registration spending its initial access token); throwing stops the write.
 */
export type ClientCheck = (record: ClientRecord) => void | Promise<void>

export interface ClientWrite {
  readonly record: ClientRecord
  /** The new secret, when one was generated: shown once, stored only hashed. */
  readonly secret?: string
}

/**
 * The record for a definition: read-only fields dropped, a confidential client without `client_secret` given a
 * generated one. Throws ClientValidationError, as the bootstrap file would.
 */
function recordOf(
  deps: AdminDeps,
  body: Record<string, unknown>,
  keep: { readonly secretHash?: string; readonly registrationTokenHash?: string } = {},
  createdAt = deps.now(),
): ClientWrite {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ClientValidationError('a client definition must be a JSON object')
  }
  const input = { ...body }
  for (const field of READ_ONLY) delete input[field]
  const isPublic = input.public === true
  // A client that authenticates with keys or its platform identity needs no secret (issue 24).
  const keyed = input.jwks !== undefined || input.jwks_uri !== undefined || input.federated_identities !== undefined
  // A confidential client keeps its secret unless a new one is given; a new confidential client gets one.
  const secret =
    isPublic || keyed || typeof input.client_secret === 'string' || keep.secretHash ? undefined : generateSecret()
  if (secret !== undefined) input.client_secret = secret
  const keepSecret = !isPublic && !keyed && input.client_secret === undefined && keep.secretHash !== undefined
  if (keepSecret) input.client_secret = 'x'.repeat(64) // validated as present; the kept hash replaces it
  const record = clientRecord(input as unknown as ClientInput, deps.secrets, createdAt, deps.clientValidation ?? {})
  return {
    record: {
      ...record,
      ...(keepSecret ? { secretHash: keep.secretHash } : {}),
      ...(keep.registrationTokenHash ? { registrationTokenHash: keep.registrationTokenHash } : {}),
    },
    ...(secret === undefined ? {} : { secret }),
  }
}

async function current(deps: AdminDeps, clientId: string, ifMatch: string | undefined): Promise<ClientRecord> {
  const existing = await deps.store.getClient(clientId)
  if (!existing) throw new WriteConflictError('missing')
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== versionOf(existing)) throw new WriteConflictError('stale')
  return existing
}

/** Which fields differ: the audit event names them (never their values, one of which may be a secret). */
function changedFields(before: ClientRecord, after: ClientRecord): string[] {
  const a = clientJson(before) as unknown as Record<string, unknown>
  const b = clientJson(after) as unknown as Record<string, unknown>
  const names = new Set([...Object.keys(a), ...Object.keys(b)])
  for (const field of READ_ONLY) names.delete(field)
  const changed = [...names].filter((n) => JSON.stringify(a[n]) !== JSON.stringify(b[n]))
  if (before.secretHash !== after.secretHash) changed.push('client_secret')
  return changed.sort()
}

async function write(
  deps: AdminDeps,
  type: AuditEventType,
  by: AuditContext,
  next: ClientRecord,
  ifMatch: string,
  details: Record<string, string | readonly string[] | undefined> = {},
): Promise<void> {
  await deps.audit.change(type, by, { target: { type: 'client', id: next.clientId }, details }, (audit) =>
    deps.store.putClient(next, { ifMatch, audit }),
  )
  deps.clients?.invalidate(next.clientId)
}

/**
 * Creates a client from a definition in the bootstrap file's names (`client_id` generated when absent). Rejects
 * with WriteConflictError(`exists`) for a taken id.
 *
 * @example
 * const { record, secret } = await createClient(deps, { grant_types: ['client_credentials'], audiences }, by)
 */
export async function createClient(
  deps: AdminDeps,
  body: Record<string, unknown>,
  by: AuditContext,
  check?: ClientCheck,
  extra: { readonly type?: AuditEventType; readonly registrationTokenHash?: string } = {},
): Promise<ClientWrite> {
  const given = body.client_id === undefined ? { ...body, client_id: newClientId() } : body
  if (given.client_id === CONSOLE_CLIENT_ID) throw reservedId()
  const made = recordOf(deps, given, extra.registrationTokenHash ? extra : {})
  await check?.(made.record)
  await write(deps, extra.type ?? 'client.created', by, made.record, 'absent', {
    grant_types: made.record.grantTypes,
  })
  return made
}

/**
 * Replaces a client's definition (RFC 7592 §2.2 and PUT: fields left out take their defaults). Its secret stays
 * unless `client_secret` gives a new one; a client that becomes confidential gets a generated one.
 */
export async function replaceClient(
  deps: AdminDeps,
  clientId: string,
  body: Record<string, unknown>,
  by: AuditContext,
  ifMatch: string | undefined,
  check?: ClientCheck,
): Promise<ClientWrite> {
  if (body.client_id !== undefined && body.client_id !== clientId) {
    throw new ClientValidationError(`client_id cannot change (this is ${clientId})`)
  }
  const existing = await current(deps, clientId, ifMatch)
  const keep = {
    ...(existing.secretHash ? { secretHash: existing.secretHash } : {}),
    ...(existing.registrationTokenHash ? { registrationTokenHash: existing.registrationTokenHash } : {}),
  }
  const made = recordOf(deps, { ...body, client_id: clientId }, keep, existing.createdAt)
  const next = { ...made.record, updatedAt: nextVersion(existing, deps.now()) }
  await check?.(next)
  await write(deps, 'client.updated', by, next, versionOf(existing), { fields: changedFields(existing, next) })
  return { ...made, record: next }
}

/** Changes some fields (RFC 7396 JSON merge patch: `null` resets a field to its default). */
export async function patchClient(
  deps: AdminDeps,
  clientId: string,
  patch: Record<string, unknown>,
  by: AuditContext,
  ifMatch: string | undefined,
  check?: ClientCheck,
): Promise<ClientWrite> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new ClientValidationError('a patch must be a JSON object')
  }
  const existing = await current(deps, clientId, ifMatch)
  const merged: Record<string, unknown> = { ...inputOf(existing) }
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete merged[field]
    else merged[field] = value
  }
  return replaceClient(deps, clientId, merged, by, versionOf(existing), check)
}

/** Replaces a client's secret with a generated one, shown once; the old one stops working at once here. */
export async function rotateClientSecret(
  deps: AdminDeps,
  clientId: string,
  by: AuditContext,
  ifMatch: string | undefined,
): Promise<Required<ClientWrite>> {
  const existing = await current(deps, clientId, ifMatch)
  if (existing.public) throw new ClientValidationError(`client ${clientId} is public: it has no secret`)
  const secret = generateSecret()
  const next = { ...existing, secretHash: deps.secrets.hash(secret), updatedAt: nextVersion(existing, deps.now()) }
  await write(deps, 'client.secret_rotated', by, next, versionOf(existing))
  return { record: next, secret }
}

/**
 * Removes a client: every token issued to it until now is refused (at verifiers too), then the record goes.
 * Rejects with WriteConflictError (`missing`, `stale`).
 */
export async function deleteClient(
  deps: AdminDeps,
  clientId: string,
  by: AuditContext,
  ifMatch: string | undefined,
): Promise<void> {
  const existing = await current(deps, clientId, ifMatch)
  await deps.audit.change('client.deleted', by, { target: { type: 'client', id: clientId } }, (audit) =>
    deps.revoker.removeClient(clientId, by, { ifMatch: versionOf(existing), audit }),
  )
  deps.clients?.invalidate(clientId)
}
