// The production store: Redis (standalone or Cluster) via ioredis, atomic operations as Lua scripts.
import { Cluster } from 'ioredis'
import { StoreUnavailableError } from '../../errors.js'
import {
  type AuthorizationCode,
  type ClientRecord,
  type FailurePolicy,
  type FailureState,
  type NewSession,
  normalizeUsername,
  type RedeemResult,
  type RefreshedSession,
  type RefreshTokenInfo,
  type RotateRequest,
  type RotateResult,
  type SessionInfo,
  type Store,
  UsernameTakenError,
  type UserRecord,
} from '../types.js'
import { decodeClient, decodeUser, encodeClient, encodeUser, keys, OPTIONAL_USER_FIELDS } from './codec.js'
import { createRedisClient, type RedisClient, type RedisConnectionOptions } from './connection.js'
import { defineScripts, type ScriptCommands } from './scripts.js'

export interface RedisStoreOptions extends RedisConnectionOptions {
  readonly now?: () => number
}

/** Errors that mean "Redis is not reachable right now", as opposed to a bug in a command. */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (err.name === 'ReplyError') {
    return /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS)/.test(err.message)
  }
  return true
}

/**
 * A {@link Store} in Redis. Every call either completes or rejects within the
 * command timeout; connection problems reject with StoreUnavailableError.
 *
 * @example
 * const store = await RedisStore.connect({ url: process.env.REDIS_URL, prefix: 'tg:' })
 */
export class RedisStore implements Store {
  readonly kind: 'redis' | 'redis-cluster'
  readonly redis: RedisClient & ScriptCommands
  protected readonly now: () => number

  protected constructor(redis: RedisClient, options: RedisStoreOptions) {
    this.redis = redis as RedisClient & ScriptCommands
    this.kind = redis instanceof Cluster ? 'redis-cluster' : 'redis'
    this.now = options.now ?? Date.now
    defineScripts(redis)
    // Errors are surfaced per command; without a listener ioredis would print each reconnect failure.
    redis.on('error', () => {})
  }

  /** Connects, waiting up to `waitMs` for Redis to become reachable. */
  static async connect(options: RedisStoreOptions, waitMs = 10_000): Promise<RedisStore> {
    const redis = createRedisClient(options)
    const store = new RedisStore(redis, options)
    // A failed first attempt is retried by ioredis itself (retryStrategy); we only wait for readiness.
    redis.connect().catch(() => {})
    let lastError: Error | undefined
    const onError = (err: Error) => {
      lastError = err
    }
    redis.on('error', onError)
    try {
      await new Promise<void>((resolve, reject) => {
        if (redis.status === 'ready') return resolve()
        const timer = setTimeout(() => reject(lastError ?? new Error('timed out')), waitMs)
        redis.once('ready', () => {
          clearTimeout(timer)
          resolve()
        })
      })
      await store.ping()
      return store
    } catch (err) {
      redis.disconnect()
      throw new StoreUnavailableError(`Redis is not reachable: ${(err as Error).message}`, { cause: err })
    } finally {
      redis.off('error', onError)
    }
  }

  /** Runs a Redis operation, turning connectivity failures into StoreUnavailableError. */
  protected async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation()
    } catch (err) {
      if (err instanceof StoreUnavailableError || err instanceof UsernameTakenError) throw err
      if (isConnectionError(err)) throw new StoreUnavailableError('Redis is unavailable', { cause: err })
      throw err
    }
  }

  async ping(): Promise<void> {
    await this.run(async () => {
      if (this.redis.status !== 'ready') throw new StoreUnavailableError(`Redis connection is ${this.redis.status}`)
      if (this.redis instanceof Cluster) {
        await Promise.all(this.redis.nodes('master').map((node) => node.ping()))
      } else {
        await this.redis.ping()
      }
    })
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit()
    } catch {
      this.redis.disconnect()
    }
  }

  async putUser(user: UserRecord): Promise<void> {
    await this.run(async () => {
      const name = normalizeUsername(user.username)
      const claimed = await this.redis.set(keys.username(name), user.sub, 'NX')
      if (claimed === null) {
        const owner = await this.redis.get(keys.username(name))
        if (owner !== user.sub) throw new UsernameTakenError(user.username)
      }
      const previous = await this.redis.hget(keys.user(user.sub), 'username')
      // The user hash also indexes the user's sessions ("s:<fid>" fields): replace fields, never the key.
      const fields = encodeUser(user)
      const absent = OPTIONAL_USER_FIELDS.filter((f) => !(f in fields))
      const tx = this.redis.multi().hset(keys.user(user.sub), fields)
      if (absent.length > 0) tx.hdel(keys.user(user.sub), ...absent)
      await tx.exec()
      await this.redis.sadd(keys.users(), user.sub)
      if (previous !== null && normalizeUsername(previous) !== name) {
        await this.redis.deleteIfEqual(keys.username(normalizeUsername(previous)), user.sub)
      }
    })
  }

  async getUser(sub: string): Promise<UserRecord | undefined> {
    return this.run(async () => decodeUser(await this.redis.hgetall(keys.user(sub))))
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    return this.run(async () => {
      const sub = await this.redis.get(keys.username(normalizeUsername(username)))
      return sub === null ? undefined : decodeUser(await this.redis.hgetall(keys.user(sub)))
    })
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.run(async () => {
      const subs = await this.redis.smembers(keys.users())
      const users = await Promise.all(subs.map((sub) => this.redis.hgetall(keys.user(sub))))
      return users
        .map(decodeUser)
        .filter((u): u is UserRecord => u !== undefined)
        .sort((a, b) => a.username.localeCompare(b.username))
    })
  }

  async putClient(client: ClientRecord): Promise<void> {
    await this.run(async () => {
      await this.redis.set(keys.client(client.clientId), encodeClient(client))
      await this.redis.sadd(keys.clients(), client.clientId)
    })
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    return this.run(async () => {
      const json = await this.redis.get(keys.client(clientId))
      return json === null ? undefined : decodeClient(json)
    })
  }

  async listClients(): Promise<ClientRecord[]> {
    return this.run(async () => {
      const ids = await this.redis.smembers(keys.clients())
      const found = await Promise.all(ids.map((id) => this.getClient(id)))
      return found
        .filter((c): c is ClientRecord => c !== undefined)
        .sort((a, b) => a.clientId.localeCompare(b.clientId))
    })
  }

  async removeClient(clientId: string): Promise<boolean> {
    return this.run(async () => {
      const removed = await this.redis.del(keys.client(clientId))
      await this.redis.srem(keys.clients(), clientId)
      return removed > 0
    })
  }

  async createSession(session: NewSession): Promise<number> {
    return this.run(async () =>
      Number(
        await this.redis.createSession(
          keys.family(session.sub, session.fid),
          keys.user(session.sub),
          session.fid,
          session.tokenHash,
          session.clientId,
          session.scope.join(' '),
          session.audience.join(' '),
          session.authTime,
          session.userAgent ?? '',
          session.now,
          session.idleTtlMs,
          session.absoluteTtlMs,
        ),
      ),
    )
  }

  async rotateRefresh(request: RotateRequest): Promise<RotateResult> {
    const reply = await this.run(() =>
      this.redis.rotateRefresh(
        keys.family(request.sub, request.fid),
        keys.user(request.sub),
        request.fid,
        request.presentedHash,
        request.successorHash,
        request.sealedSuccessor,
        request.clientId,
        request.now,
        request.idleTtlMs,
        request.graceMs,
        request.scope?.join(' ') ?? '',
        request.audience?.join(' ') ?? '',
      ),
    )
    const [outcome, ...rest] = reply
    const session = (fields: string[]): RefreshedSession => {
      const [scope, audience, authTime, expires, roles, username, name, email, emailVerified, picture] = fields
      return {
        scope: (scope ?? '').split(' ').filter(Boolean),
        audience: (audience ?? '').split(' ').filter(Boolean),
        authTime: Number(authTime),
        expiresAt: Number(expires),
        user: {
          sub: request.sub,
          username: username ?? '',
          roles: JSON.parse(roles || '[]') as string[],
          ...(name ? { name } : {}),
          ...(email ? { email, emailVerified: emailVerified === '1' } : {}),
          ...(picture ? { picture } : {}),
        },
      }
    }
    switch (outcome) {
      case 'rotated':
        return { outcome, session: session(rest) }
      case 'replay':
        return { outcome, sealedSuccessor: rest[0] ?? '', currentHash: rest[1] ?? '', session: session(rest.slice(2)) }
      case 'reuse':
        return { outcome, clientId: rest[0] ?? '' }
      case 'invalid':
      case 'wrong_client':
      case 'disabled':
      case 'invalid_scope':
      case 'invalid_target':
        return { outcome }
      default:
        throw new Error(`rotate-refresh returned ${String(outcome)}`)
    }
  }

  async inspectRefresh(sub: string, fid: string, tokenHash: string): Promise<RefreshTokenInfo | undefined> {
    const reply = await this.run(() => this.redis.inspectRefresh(keys.family(sub, fid), tokenHash))
    if (reply.length === 0) return undefined
    const [clientId, scope, audience, createdAt, expiresAt] = reply
    return {
      clientId: clientId ?? '',
      scope: (scope ?? '').split(' ').filter(Boolean),
      audience: (audience ?? '').split(' ').filter(Boolean),
      createdAt: Number(createdAt),
      expiresAt: Number(expiresAt),
    }
  }

  async revokeSession(sub: string, fid: string): Promise<boolean> {
    return this.run(async () => (await this.redis.revokeSession(keys.family(sub, fid), keys.user(sub), fid)) > 0)
  }

  async revokeUserSessions(sub: string): Promise<number> {
    return this.run(() => this.redis.revokeUserSessions(keys.user(sub), keys.familyPrefix(sub)))
  }

  async listSessions(sub: string, now: number): Promise<SessionInfo[]> {
    const flat = await this.run(() => this.redis.listSessions(keys.user(sub), keys.familyPrefix(sub), now))
    const sessions: SessionInfo[] = []
    for (let i = 0; i + 6 < flat.length; i += 7) {
      const [fid, clientId, createdAt, lastUsedAt, userAgent, expiresAt, scope] = flat.slice(i, i + 7)
      sessions.push({
        fid: fid ?? '',
        clientId: clientId ?? '',
        createdAt: Number(createdAt),
        lastUsedAt: Number(lastUsedAt),
        expiresAt: Number(expiresAt),
        scope: (scope ?? '').split(' ').filter(Boolean),
        ...(userAgent ? { userAgent } : {}),
      })
    }
    return sessions.sort((a, b) => a.createdAt - b.createdAt)
  }

  async putCode(codeHash: string, code: AuthorizationCode, ttlMs: number): Promise<void> {
    await this.run(async () => {
      await this.redis
        .multi()
        .hset(keys.code(codeHash), 'd', JSON.stringify(code))
        .pexpire(keys.code(codeHash), ttlMs)
        .exec()
    })
  }

  async redeemCode(codeHash: string): Promise<RedeemResult> {
    const [outcome, data] = await this.run(() => this.redis.redeemCode(keys.code(codeHash)))
    if ((outcome === 'ok' || outcome === 'reused') && data) {
      return { outcome, code: JSON.parse(data) as AuthorizationCode }
    }
    return { outcome: 'invalid' }
  }

  async recordFailure(key: string, now: number, policy: FailurePolicy): Promise<FailureState> {
    const [count, last, lockedUntil] = await this.run(() =>
      this.redis.recordFailure(keys.failures(key), now, policy.windowMs, policy.maxFailures, policy.lockoutMs),
    )
    return { count: Number(count), last: Number(last), lockedUntil: Number(lockedUntil) }
  }

  async failureState(key: string, now: number, windowMs: number): Promise<FailureState> {
    const [count, first, last, locked] = await this.run(() => this.redis.hmget(keys.failures(key), 'n', 'f', 'l', 'u'))
    const lockedUntil = Number(locked ?? 0)
    if (count === null || (now - Number(first) > windowMs && lockedUntil <= now))
      return { count: 0, last: 0, lockedUntil: 0 }
    return { count: Number(count), last: Number(last), lockedUntil }
  }

  async clearFailures(key: string): Promise<void> {
    await this.run(() => this.redis.del(keys.failures(key)))
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    if (expiresAt <= this.now()) return
    await this.run(() => this.redis.set(keys.revokedJti(jti), '1', 'PXAT', expiresAt))
  }

  async isAccessTokenRevoked(jti: string): Promise<boolean> {
    return this.run(async () => (await this.redis.exists(keys.revokedJti(jti))) === 1)
  }
}
