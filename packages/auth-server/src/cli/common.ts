// What the users, clients and sessions commands share: the store every instance uses, secrets from stdin, errors.
import { ClientValidationError } from '../clients/client.js'
import type { Config } from '../config.js'
import { Revoker } from '../revocation/revoker.js'
import { openStore } from '../store/index.js'
import { type Store, UsernameTakenError, type UserRecord } from '../store/types.js'
import { UserValidationError } from '../users/user.js'
import { CliError, type Output } from './output.js'

export type Context = () => { config: Config; out: Output }

export const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString())
export const collect = (value: string, previous: string[] = []) => [...previous, value]

/** Opens the shared store, runs `fn`, always closes it. The in-memory store would vanish with this process. */
/** Ends things in `store` the way the server does: recorded in the revocation log first, so verifiers hear of it. */
export const revokerFor = (config: Config, store: Store) =>
  new Revoker({ store, accessTokenTtl: config.accessTokenTtl, now: Date.now })

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
  if (err instanceof UserValidationError || err instanceof ClientValidationError || err instanceof UsernameTakenError) {
    throw new CliError(err.message)
  }
  throw err
}
