// The Redis store against a real redis-server that misbehaves: stalls, evicting policies, lost data, lost replicas.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import t from 'tap'
import { freePort } from '../../../../test/support/ports.js'
import { reapOnExit } from '../../../../test/support/reaper.js'
import { redisCli, startRedis } from '../../../../test/support/redis.js'
import { answersWithin, stallRedis } from '../../../../test/support/redis-faults.js'
import { StoreMisconfiguredError, StoreUnavailableError } from '../../src/errors.js'
import { RedisStore, type RedisStoreOptions } from '../../src/store/redis/redis-store.js'
import { isTransient } from '../../src/store/redis/transient.js'
import type { NewSession, RotateRequest, UserRecord } from '../../src/store/types.js'

/** Short, so the stalls stay short; every bound below is derived from it. */
const TIMEOUT_MS = 400
/** What a loaded machine may add to a bound (scheduling, not Redis). */
const SLACK_MS = 600

const redis = await startRedis({ private: true })
t.teardown(() => redis.stop())

let run = 0
const open = async (options: Partial<RedisStoreOptions> = {}) => {
  const store = await RedisStore.connect({
    url: redis.url,
    prefix: `${redis.prefix}${run++}:`,
    commandTimeoutMs: TIMEOUT_MS,
    ...options,
  })
  t.teardown(() => store.close())
  return store
}

const SUB = '00000000-0000-4000-8000-000000000001'
const user: UserRecord = {
  sub: SUB,
  username: 'alice',
  passwordHash: '$argon2id$fake',
  roles: [],
  disabled: false,
  createdAt: 1,
  updatedAt: 1,
}
const now = Date.now()
const session = (fid: string): NewSession => ({
  sub: SUB,
  fid,
  tokenHash: 'h0',
  clientId: 'web',
  scope: ['openid'],
  audience: ['https://api.test'],
  authTime: 1,
  now,
  idleTtlMs: 3_600_000,
  absoluteTtlMs: 7_200_000,
})
const rotate = (fid: string): RotateRequest => ({
  sub: SUB,
  fid,
  presentedHash: 'h0',
  successorHash: 'h1',
  sealedSuccessor: 'sealed',
  clientId: 'web',
  now: now + 1000,
  idleTtlMs: 3_600_000,
  graceMs: 10_000,
})

/** Resolves once the store answers again (its breaker probes until Redis does). */
async function recovered(store: RedisStore): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await store.ping()
      return
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  throw new Error('the store did not recover')
}

async function timed<T>(promise: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now()
  try {
    await promise
    return { ms: Date.now() - started, error: undefined }
  } catch (error) {
    return { ms: Date.now() - started, error }
  }
}

for (const kind of ['sleep', 'pause-write'] as const) {
  t.test(`${kind}: a refresh Redis reaches after its deadline changes nothing`, async (t) => {
    const store = await open()
    await store.putUser(user)
    await store.createSession(session(`f-${kind}`))
    const stall = await stallRedis(redis.port, kind, 2)
    const first = await timed(store.rotateRefresh(rotate(`f-${kind}`)))
    t.type(first.error, StoreUnavailableError, 'the refresh is refused as unavailable')
    t.ok(first.ms <= TIMEOUT_MS + SLACK_MS, `within the timeout (${first.ms} ms)`)
    const next = await timed(store.getClient('web'))
    t.type(next.error, StoreUnavailableError)
    t.ok(next.ms < TIMEOUT_MS, `the next call is refused at once, not queued behind the stalled one (${next.ms} ms)`)

    await stall.over
    await recovered(store)
    const retry = await store.rotateRefresh(rotate(`f-${kind}`))
    t.equal(retry.outcome, 'rotated', 'the stalled rotation was not applied late: the same token rotates now')
  })
}

t.test('a new session Redis reaches after its deadline is not created', async (t) => {
  const store = await open()
  await store.putUser(user)
  const stall = await stallRedis(redis.port, 'sleep', 2)
  t.type((await timed(store.createSession(session('f-late')))).error, StoreUnavailableError)
  await stall.over
  await recovered(store)
  t.same(await store.listSessions(SUB, now), [], 'no orphan session')
})

t.test('replies that mean "not now" are transient, others are bugs', async (t) => {
  const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' })
  for (const message of [
    'MOVED 3999 127.0.0.1:7002',
    'ASK 3999 127.0.0.1:7002',
    'CLUSTERDOWN The cluster is down',
    'LOADING Redis is loading the dataset in memory',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'READONLY You can not write against a read only replica.',
    'MASTERDOWN Link with MASTER is down',
    "OOM command not allowed when used memory > 'maxmemory'.",
  ]) {
    t.ok(isTransient(reply(message)), message)
  }
  t.notOk(isTransient(reply('WRONGTYPE Operation against a key holding the wrong kind of value')))
  t.notOk(isTransient(reply('ERR Error running script')))
  t.ok(isTransient(new Error('Connection is closed.')))
  t.ok(isTransient(new Error('Too many Cluster redirections. Last error: ReplyError: MOVED 1 127.0.0.1:1')))
})

t.test('an evicting maxmemory-policy is refused with one line naming the setting and the fix', async (t) => {
  const lru = await startRedis({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru'] })
  t.teardown(() => lru.stop())
  const err = await RedisStore.connect({ url: lru.url, prefix: 'x:' }).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.type(err, StoreMisconfiguredError)
  t.match((err as Error).message, /maxmemory-policy allkeys-lru.*set maxmemory-policy noeviction/)
  t.notMatch((err as Error).message, /\n/, 'one line')
})

t.test('where CONFIG is not allowed, the store warns once and works', async (t) => {
  const managed = await startRedis({ args: ['--rename-command', 'CONFIG', ''] })
  t.teardown(() => managed.stop())
  const warnings: string[] = []
  const store = await RedisStore.connect({
    url: managed.url,
    prefix: 'x:',
    log: { warn: (_o, msg) => void warnings.push(msg), info: () => {} },
  })
  t.teardown(() => store.close())
  await store.checkEvictionPolicy()
  t.equal(warnings.length, 1, 'warned once')
  t.match(warnings[0], /maxmemory-policy/)
  await t.resolves(store.putUser(user))
})

t.test('a Redis that reconnects with an evicting policy stops the server', async (t) => {
  const victim = await startRedis({ private: true })
  t.teardown(() => victim.stop())
  let misconfigured: StoreMisconfiguredError | undefined
  const store = await RedisStore.connect({
    url: victim.url,
    prefix: 'x:',
    onMisconfigured: (err) => {
      misconfigured = err
    },
  })
  t.teardown(() => store.close())
  await redisCli(victim.port, 'config', 'set', 'maxmemory-policy', 'volatile-lru')
  await redisCli(victim.port, 'client', 'kill', 'type', 'normal')
  for (let i = 0; i < 100 && !misconfigured; i++) await new Promise((r) => setTimeout(r, 50))
  t.type(misconfigured, StoreMisconfiguredError)
  t.match(misconfigured?.message, /volatile-lru/)
})

t.test('a username index without its user record heals instead of refusing the name', async (t) => {
  const store = await open()
  await store.putUser(user)
  const raw = new Redis(redis.url)
  t.teardown(() => raw.quit())
  // What an evicting Redis left behind: the index entry, not the record.
  await raw.del(`${redis.prefix}${run - 1}:user:{${SUB}}`)
  const fresh = { ...user, sub: '00000000-0000-4000-8000-000000000002' }
  await t.resolves(store.putUser(fresh))
  t.equal((await store.findUserByUsername('alice'))?.sub, fresh.sub)
})

t.test('the marker is missing once the data is gone', async (t) => {
  const store = await open()
  t.equal(await store.ensureMarker(), false, 'a fresh store has none yet')
  t.equal(await store.ensureMarker(), true)
  await redisCli(redis.port, 'flushall')
  t.equal(await store.ensureMarker(), false, 'after FLUSHALL it is gone (and written again)')
})

t.test('REDIS_WAIT_REPLICAS: a session is handed out only once a replica has it', async (t) => {
  const port = await freePort()
  // A replica stores the synced dataset in its directory: a temporary one.
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-replica-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const launch = (): ChildProcess =>
    reapOnExit(
      spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--replicaof',
          '127.0.0.1',
          String(redis.port),
        ],
        { stdio: 'ignore' },
      ),
    )
  let replica = launch()
  t.teardown(() => replica.kill('SIGKILL'))
  // Synced once the primary counts it online.
  for (let i = 0; i < 400; i++) {
    const info = await redisCli(redis.port, 'info', 'replication').catch(() => '')
    if (/slave0:.*state=online/.test(info)) break
    await new Promise((r) => setTimeout(r, 50))
  }
  // A replica's acknowledgement is one round trip, but a loaded machine may delay it: a longer timeout here.
  const timeoutMs = 2_000
  const store = await open({ waitReplicas: 1, commandTimeoutMs: timeoutMs })
  await store.putUser(user)
  t.ok((await store.createSession(session('f-wait'))) > now, 'acknowledged by the replica')
  t.equal((await store.rotateRefresh(rotate('f-wait'))).outcome, 'rotated')

  const exited = new Promise((resolve) => replica.once('exit', resolve))
  replica.kill('SIGKILL')
  await exited
  for (let i = 0; i < 100 && (await redisCli(redis.port, 'info', 'replication')).includes('slave0'); i++) {
    await new Promise((r) => setTimeout(r, 50))
  }
  const alone = await timed(store.createSession(session('f-alone')))
  t.type(alone.error, StoreUnavailableError, 'without a replica to acknowledge it, no token is handed out')
  t.ok(alone.ms <= timeoutMs + SLACK_MS, `and the answer comes within the timeout (${alone.ms} ms)`)
  replica = launch()
  t.ok(await answersWithin(redis.port, 1000))
})
