// Conditional writes of clients and users in Redis: the If-Match check, the write and its audit event in one script
// on a standalone Redis; in a Cluster (where the audit stream lives on another slot) the event follows the write.
import {
  type AuditWrite,
  type ClientRecord,
  normalizeUsername,
  type UserRecord,
  WriteConflictError,
  type WriteOptions,
} from '../types.js'
import { auditArgs } from './audit.js'
import type { RedisBackend } from './backend.js'
import { encodeClient, encodeUser, keys, OPTIONAL_USER_FIELDS } from './codec.js'
import { call } from './scripts.js'

const CONFLICTS = new Set<string>(['exists', 'missing', 'stale'])

function conflict(reply: string): void {
  if (CONFLICTS.has(reply)) throw new WriteConflictError(reply as WriteConflictError['reason'])
}

/**
 * @example
 * const records = new RedisRecords(backend, (write) => store.appendAudit(write))
 * await records.putClient(client, { ifMatch: '1733000000000', audit })
 */
export class RedisRecords {
  readonly #backend: RedisBackend
  readonly #appendAudit: (write: AuditWrite) => Promise<string>

  constructor(backend: RedisBackend, appendAudit: (write: AuditWrite) => Promise<string>) {
    this.#backend = backend
    this.#appendAudit = appendAudit
  }

  /**
   * The audit key and event of a script that writes a record and its audit event. In a Cluster the audit stream is
   * on another slot than the record: the script gets the record's key again and no event, and `after` appends it.
   */
  #auditIn(recordKey: string, audit: AuditWrite | undefined) {
    const together = !this.#backend.cluster
    return {
      key: together ? keys.auditLog() : recordKey,
      args: auditArgs(together ? audit : undefined),
      after: async () => {
        if (!together && audit) await this.#appendAudit(audit)
      },
    }
  }

  async updateUser(user: UserRecord, options?: WriteOptions): Promise<void> {
    const fields = encodeUser(user)
    const audit = this.#auditIn(keys.user(user.sub), options?.audit)
    const reply = await this.#backend.script<string, 'updateUser'>('updateUser', {
      keys: { user: keys.user(user.sub), audit: audit.key },
      args: {
        condition: options?.ifMatch ?? '*',
        fields: JSON.stringify(fields),
        clear: JSON.stringify(OPTIONAL_USER_FIELDS.filter((f) => !(f in fields))),
        ...audit.args,
      },
    })
    conflict(reply)
    await audit.after()
  }

  async removeUser(sub: string, options?: WriteOptions): Promise<void> {
    const audit = this.#auditIn(keys.user(sub), options?.audit)
    const [outcome, username] = await this.#backend.script<string[], 'removeUser'>('removeUser', {
      keys: { user: keys.user(sub), audit: audit.key },
      args: { condition: options?.ifMatch ?? '*', ...audit.args },
    })
    conflict(outcome as string)
    const redis = this.#backend.redis
    // The username index lives on another slot: released after the record, only if it still names this user.
    await this.#backend.run(async () => {
      if (username) {
        const name = keys.username(normalizeUsername(username))
        await call(redis, 'deleteIfEqual', { keys: { key: name }, args: { expected: sub } })
      }
      await redis.srem(keys.users(), sub)
    })
    await audit.after()
  }

  async putClient(client: ClientRecord, options?: WriteOptions): Promise<void> {
    const audit = this.#auditIn(keys.client(client.clientId), options?.audit)
    const reply = await this.#backend.script<string, 'putClient'>('putClient', {
      keys: { client: keys.client(client.clientId), audit: audit.key },
      args: { condition: options?.ifMatch ?? '', client: encodeClient(client), ...audit.args },
    })
    conflict(reply)
    await this.#backend.run(() => this.#backend.redis.sadd(keys.clients(), client.clientId))
    await audit.after()
  }

  async removeClient(clientId: string, options?: WriteOptions): Promise<boolean> {
    const audit = this.#auditIn(keys.client(clientId), options?.audit)
    const reply = await this.#backend.script<string, 'removeClient'>('removeClient', {
      keys: { client: keys.client(clientId), audit: audit.key },
      args: { condition: options?.ifMatch ?? '', ...audit.args },
    })
    conflict(reply)
    await this.#backend.run(() => this.#backend.redis.srem(keys.clients(), clientId))
    if (reply !== 'ok') return false
    await audit.after()
    return true
  }
}
