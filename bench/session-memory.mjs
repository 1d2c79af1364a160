#!/usr/bin/env node
// Redis memory per live session: N sessions (one per user, each rotated once so a sealed successor is stored),
// measured as the used_memory delta on a private redis-server. Usage: node bench/session-memory.mjs [N]
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { describeUserAgent } from '../packages/auth-server/dist/sessions/user-agent.js'
import { RedisStore } from '../packages/auth-server/dist/store/redis/redis-store.js'
import {
  hashRefreshToken,
  newRefreshToken,
  sealSuccessor,
  successorOf,
} from '../packages/auth-server/dist/tokens/refresh-token.js'

const N = Number(process.argv[2] ?? 10_000)
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address()
    s.close(() => resolve(port))
  })
})
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
)
try {
  const store = await RedisStore.connect({ url: `redis://127.0.0.1:${port}`, prefix: 'tg:' })
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await store.redis.info('memory'))[1])
  const subs = Array.from({ length: N }, () => randomUUID())
  const now = Date.now()
  const BATCH = 500
  // Users exist before their sessions: only what sessions add is counted.
  for (let i = 0; i < N; i += BATCH) {
    await Promise.all(
      subs
        .slice(i, i + BATCH)
        .map((sub) =>
          store.redis.hset(`user:{${sub}}`, 'sub', sub, 'username', sub.slice(0, 8), 'disabled', '0', 'roles', '[]'),
        ),
    )
  }
  const before = await usedMemory()
  for (let i = 0; i < N; i += BATCH) {
    await Promise.all(
      subs.slice(i, i + BATCH).map(async (sub) => {
        const token = newRefreshToken(sub)
        await store.createSession({
          sub,
          fid: token.fid,
          tokenHash: hashRefreshToken(token.token),
          clientId: 'web-app',
          scope: ['openid', 'profile', 'email', 'notes:read', 'notes:write'],
          audience: ['https://api.example.com'],
          authTime: Math.floor(now / 1000),
          userAgent: describeUserAgent(UA), // as the server stores it
          now,
          idleTtlMs: 1_209_600_000,
          absoluteTtlMs: 2_592_000_000,
        })
        const next = successorOf(token)
        const r = await store.rotateRefresh({
          sub,
          fid: token.fid,
          presentedHash: hashRefreshToken(token.token),
          successorHash: hashRefreshToken(next.token),
          sealedSuccessor: sealSuccessor(token.token, next.secret),
          clientId: 'web-app',
          now: now + 1000,
          idleTtlMs: 1_209_600_000,
          graceMs: 10_000,
        })
        if (r.outcome !== 'rotated') throw new Error(`rotation: ${r.outcome}`)
      }),
    )
  }
  const after = await usedMemory()
  const [family] = await store.redis.keys(`tg:rt:{${subs[0]}}:*`)
  const raw = new (await import('ioredis')).Redis(`redis://127.0.0.1:${port}`)
  const familyBytes = await raw.memory('USAGE', family)
  const encoding = await raw.object('ENCODING', family)
  await raw.quit()
  const result = {
    sessions: N,
    bytesPerSession: Math.round((after - before) / N),
    familyKeyMemoryUsage: familyBytes,
    familyKeyEncoding: encoding,
  }
  console.log(JSON.stringify(result))
  await store.close()
} finally {
  redis.kill('SIGKILL')
}
