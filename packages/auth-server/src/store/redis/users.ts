// Users in Redis: the record (a hash that also indexes the user's sessions) and the username index beside it.
import { normalizeUsername, UsernameTakenError, type UserRecord } from '../types.js'
import { encodeUser, keys, OPTIONAL_USER_FIELDS } from './codec.js'
import type { RedisClient } from './connection.js'
import { call } from './scripts.js'

/**
 * Points the username at this user, unless a live user of that name owns it. An entry naming a user whose record is
 * gone (an evicted key, a partial restore) or who was renamed is stale: compare-and-delete it, then claim again.
 */
async function claimUsername(redis: RedisClient, name: string, user: UserRecord): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await redis.set(keys.username(name), user.sub, 'NX')) !== null) return
    const owner = await redis.get(keys.username(name))
    if (owner === user.sub) return
    if (owner === null) continue
    const ownerName = await redis.hget(keys.user(owner), 'username')
    if (ownerName !== null && normalizeUsername(ownerName) === name) throw new UsernameTakenError(user.username)
    await call(redis, 'deleteIfEqual', { keys: { key: keys.username(name) }, args: { expected: owner } })
  }
  throw new UsernameTakenError(user.username)
}

/**
 * Creates or replaces a user. The record is written first, then the username: an index entry then always has its
 * record, except when something outside Tollgate deleted the record, which the claim heals.
 */
export async function putUser(redis: RedisClient, user: UserRecord): Promise<void> {
  const name = normalizeUsername(user.username)
  const previous = await redis.hget(keys.user(user.sub), 'username')
  // The user hash also indexes the user's sessions ("s:<fid>" fields): replace fields, never the key.
  const fields = encodeUser(user)
  const absent = OPTIONAL_USER_FIELDS.filter((f) => !(f in fields))
  const tx = redis.multi().hset(keys.user(user.sub), fields)
  if (absent.length > 0) tx.hdel(keys.user(user.sub), ...absent)
  await tx.exec()
  await redis.sadd(keys.users(), user.sub)
  try {
    await claimUsername(redis, name, user)
  } catch (err) {
    if (previous === null && err instanceof UsernameTakenError) {
      // Nothing else knows this new record yet: take it back.
      await redis.del(keys.user(user.sub))
      await redis.srem(keys.users(), user.sub)
    }
    throw err
  }
  if (previous !== null && normalizeUsername(previous) !== name) {
    const old = keys.username(normalizeUsername(previous))
    await call(redis, 'deleteIfEqual', { keys: { key: old }, args: { expected: user.sub } })
  }
}
