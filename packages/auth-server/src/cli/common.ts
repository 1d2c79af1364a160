// What the users, clients and sessions commands share: the store every instance uses, the administrative operations
// the admin API uses too (audited, with the operator's OS user as the actor), secrets from stdin, errors.
import { randomBytes } from 'node:crypto'
import { userInfo } from 'node:os'
import type { AdminDeps } from '../admin/deps.js'
import type { AuditContext } from '../audit/event.js'
import { AuditLog } from '../audit/log.js'
import { ClientValidationError } from '../clients/client.js'
import { SecretHasher } from '../clients/secrets.js'
import type { Config } from '../config.js'
import { OAuthError } from '../errors.js'
import { loadSecretKey } from '../keys/secret-key.js'
import { Revoker } from '../revocation/revoker.js'
import { openStore } from '../store/index.js'
import { type Store, UsernameTakenError, type UserRecord, WriteConflictError } from '../store/types.js'
import { UserValidationError } from '../users/user.js'
import { CliError, type Output } from './output.js'

export type Context = () => { config: Config; out: Output }

export const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString())
export const collect = (value: string, previous: string[] = []) => [...previous, value]

/** The operator running the CLI, as the audit log names them: their OS user. */
export function operator(): AuditContext {
  let name = 'unknown'
  try {
    name = userInfo().username || name
  } catch {}
  return { actor: { type: 'operator', id: name } }
}

/** The audit log in `store`, as the servers keep it (AUDIT_RETENTION). */
export const auditFor = (config: Config, store: Store) =>
  new AuditLog({ store, retentionMs: config.auditRetention * 1000, now: Date.now })

/**
 * What the administrative operations need, against `store`: ends recorded in the revocation log first (so
 * verifiers hear of them), every change audited. `hashing`: load the servers' client-secret key (KEYS_DIR), for
 * commands that hash client secrets or tokens.
 */
export async function adminDeps(config: Config, store: Store, hashing = false): Promise<AdminDeps> {
  const audit = auditFor(config, store)
  const key = hashing ? await loadSecretKey(config.keysDir, config.clientSecretKey) : randomBytes(32)
  return {
    store,
    audit,
    revoker: new Revoker({ store, accessTokenTtl: config.accessTokenTtl, now: Date.now, audit }),
    secrets: new SecretHasher(key),
    now: Date.now,
    // Trusted issuers are the bootstrap file's (the CLI warns about others instead of refusing them).
    clientValidation: { signingAlgs: config.signingAlgs, profile: config.profile },
  }
}

export async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  if (!config.redisUrl && !config.redisClusterNodes) {
    throw new CliError(
      'REDIS_URL (or REDIS_CLUSTER_NODES) is not set: the CLI manages the Redis store the servers share',
    )
  }
  const store = await openStore(config).catch((err: Error) => {
    throw new CliError(`cannot reach Redis: ${err.message}`)
  })
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** A secret from stdin (everything up to the end, one trailing newline dropped). Never from argv. */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

export async function findUser(store: Store, username: string): Promise<UserRecord> {
  const user = await store.findUserByUsername(username)
  if (!user) throw new CliError(`no user "${username}"`)
  return user
}

/** Validation failures of our own input modules become one-line CLI errors. */
export function asCliError(err: unknown): never {
  if (
    err instanceof UserValidationError ||
    err instanceof ClientValidationError ||
    err instanceof UsernameTakenError ||
    err instanceof OAuthError
  ) {
    throw new CliError(err.message)
  }
  throw err
}

/** Runs an administrative operation; its validation failures and conflicts become one-line CLI errors. */
export async function attempt<T>(operation: Promise<T>, what: { exists?: string; missing?: string } = {}): Promise<T> {
  try {
    return await operation
  } catch (err) {
    if (err instanceof WriteConflictError) {
      throw new CliError((err.reason === 'exists' ? what.exists : what.missing) ?? err.message)
    }
    asCliError(err)
  }
}
