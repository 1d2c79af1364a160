// RFC 7591 §3 initial access tokens: issued by an administrator (admin API, `tollgate registration-tokens create`),
// each with an expiry and a number of registrations it may make, stored only as a keyed hash.

import type { AdminDeps } from '../admin/deps.js'
import type { AuditContext } from '../audit/event.js'
import { actorLabel } from '../audit/event.js'
import type { SecretHasher } from '../clients/secrets.js'
import { InvalidRequest } from '../errors.js'
import type { InitialAccessTokenRecord, Store } from '../store/types.js'
import { randomBase64url } from '../tokens/random.js'

export const DEFAULT_EXPIRES_IN = 86_400
export const MAX_EXPIRES_IN = 90 * 86_400
export const MAX_USES = 10_000

/** An initial access token as the admin API lists it (never the token). */
export interface InitialAccessTokenJson {
  id: string
  created_at: string
  expires_at: string
  max_uses: number
  uses_left: number
  created_by: string
  description?: string
}

export function initialAccessTokenJson(t: InitialAccessTokenRecord): InitialAccessTokenJson {
  return {
    id: t.id,
    created_at: new Date(t.createdAt).toISOString(),
    expires_at: new Date(t.expiresAt).toISOString(),
    max_uses: t.maxUses,
    uses_left: t.usesLeft,
    created_by: t.createdBy,
    ...(t.description === undefined ? {} : { description: t.description }),
  }
}

/** `<id>.<secret>`: the id finds the record, the secret (256 bits) proves possession. */
const FORMAT = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/

export interface NewInitialAccessToken {
  /** Seconds it stays usable. Default one day, at most 90. */
  readonly expires_in?: number
  /** Registrations it may make. Default 1. */
  readonly max_uses?: number
  /** What it is for (a pipeline's name), shown in lists and the audit log. */
  readonly description?: string
}

function checked(input: NewInitialAccessToken): Required<Omit<NewInitialAccessToken, 'description'>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidRequest('the request must be a JSON object')
  }
  const unknown = Object.keys(input).find((f) => !['expires_in', 'max_uses', 'description'].includes(f))
  if (unknown !== undefined) throw new InvalidRequest(`unknown field "${unknown}"`)
  const expiresIn = input.expires_in ?? DEFAULT_EXPIRES_IN
  const maxUses = input.max_uses ?? 1
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_IN) {
    throw new InvalidRequest(`expires_in must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}`)
  }
  if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > MAX_USES) {
    throw new InvalidRequest(`max_uses must be a whole number from 1 to ${MAX_USES}`)
  }
  const { description } = input
  if (description !== undefined && (typeof description !== 'string' || description.length > 200)) {
    throw new InvalidRequest('description must be a string of at most 200 characters')
  }
  return { expires_in: expiresIn, max_uses: maxUses }
}

/**
 * Issues an initial access token; the token is returned once and kept only as a keyed hash.
 *
 * @example
 * const { token, record } = await createInitialAccessToken(deps, { expires_in: 3600, max_uses: 5 }, by)
 */
export async function createInitialAccessToken(
  deps: AdminDeps,
  input: NewInitialAccessToken,
  by: AuditContext,
): Promise<{ token: string; record: InitialAccessTokenRecord }> {
  const { expires_in, max_uses } = checked(input)
  const id = randomBase64url(12)
  const secret = randomBase64url(32)
  const now = deps.now()
  const record: InitialAccessTokenRecord = {
    id,
    secretHash: deps.secrets.hash(secret),
    createdAt: now,
    expiresAt: now + expires_in * 1000,
    maxUses: max_uses,
    usesLeft: max_uses,
    createdBy: actorLabel(by.actor),
    ...(input.description === undefined ? {} : { description: input.description }),
  }
  await deps.audit.change(
    'initial_access_token.created',
    by,
    {
      target: { type: 'initial_access_token', id },
      details: { max_uses, expires_at: new Date(record.expiresAt).toISOString(), description: input.description },
    },
    (audit) => deps.store.putInitialAccessToken(record, { audit }),
  )
  return { token: `${id}.${secret}`, record }
}

/** The live record a presented token belongs to, checked in constant time; `undefined` for anything else. */
export async function findInitialAccessToken(
  deps: { readonly store: Pick<Store, 'getInitialAccessToken'>; readonly secrets: SecretHasher },
  token: string,
  now: number,
): Promise<InitialAccessTokenRecord | undefined> {
  const match = FORMAT.exec(token)
  if (!match) return undefined
  const record = await deps.store.getInitialAccessToken(match[1] as string, now)
  return deps.secrets.verify(match[2] as string, record?.secretHash) ? record : undefined
}
