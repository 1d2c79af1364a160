// RFC 7591 initial access tokens in Redis: one hash per token (expiring with it), a sorted set by expiry to list them.
import type { InitialAccessTokenRecord } from '../types.js'
import { keys } from './codec.js'
import type { RedisClient } from './connection.js'

export function encodeInitialToken(token: InitialAccessTokenRecord): Record<string, string> {
  return {
    i: token.id,
    h: token.secretHash,
    c: String(token.createdAt),
    x: String(token.expiresAt),
    m: String(token.maxUses),
    n: String(token.usesLeft),
    b: token.createdBy,
    ...(token.description === undefined ? {} : { d: token.description }),
  }
}

export function decodeInitialToken(fields: Record<string, string>): InitialAccessTokenRecord | undefined {
  if (!fields.i || !fields.h) return undefined
  return {
    id: fields.i,
    secretHash: fields.h,
    createdAt: Number(fields.c),
    expiresAt: Number(fields.x),
    maxUses: Number(fields.m),
    usesLeft: Number(fields.n),
    createdBy: fields.b ?? '',
    ...(fields.d === undefined ? {} : { description: fields.d }),
  }
}

export async function putInitialToken(redis: RedisClient, token: InitialAccessTokenRecord): Promise<void> {
  await redis
    .multi()
    .hset(keys.initialToken(token.id), encodeInitialToken(token))
    .pexpireat(keys.initialToken(token.id), token.expiresAt)
    .exec()
  await redis.zadd(keys.initialTokens(), token.expiresAt, token.id)
}

export async function getInitialToken(
  redis: RedisClient,
  id: string,
  now: number,
): Promise<InitialAccessTokenRecord | undefined> {
  const token = decodeInitialToken(await redis.hgetall(keys.initialToken(id)))
  return token && token.expiresAt > now && token.usesLeft > 0 ? token : undefined
}

export async function listInitialTokens(redis: RedisClient, now: number): Promise<InitialAccessTokenRecord[]> {
  await redis.zremrangebyscore(keys.initialTokens(), '-inf', now)
  const ids = await redis.zrange(keys.initialTokens(), 0, -1)
  const found = await Promise.all(ids.map((id) => getInitialToken(redis, id, now)))
  return found
    .filter((t): t is InitialAccessTokenRecord => t !== undefined)
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
}

export async function removeInitialToken(redis: RedisClient, id: string): Promise<boolean> {
  const removed = await redis.del(keys.initialToken(id))
  await redis.zrem(keys.initialTokens(), id)
  return removed > 0
}
