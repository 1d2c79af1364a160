// A private redis-server per test file, on a free port, with no persistence; REDIS_URL overrides it.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from './ports.js'
import { startProcess, type TestProcess } from './processes.js'

export interface TestRedis {
  readonly url: string
  readonly port: number
  /** A key prefix unique to this test run, so a shared REDIS_URL is never polluted across runs. */
  readonly prefix: string
  /** Kill the server (SIGKILL) — for fault tests. */
  kill(): Promise<void>
  /** Start it again on the same port (same data directory when AOF is on). */
  restart(): Promise<void>
  stop(): Promise<void>
}

export interface RedisOptions {
  /** Enable AOF with appendfsync always (durability tests). */
  readonly appendonly?: boolean
  /**
   * Always start a private server, even when REDIS_URL is set: fault tests stall, flush, reconfigure or kill it.
   * Also allows `DEBUG` from localhost (`DEBUG SLEEP`).
   */
  readonly private?: boolean
  /** More redis-server arguments (`['--maxmemory-policy', 'allkeys-lru']`). */
  readonly args?: readonly string[]
}

/** redis-server exited before it answered; `output` is what it said (a taken port, a bad argument). */
class RedisStartError extends Error {
  constructor(
    readonly code: number | null,
    readonly output: string,
  ) {
    super(`redis-server exited with ${code}: ${output.trim().split('\n').slice(-5).join(' | ')}`)
  }
}

/** Whether a start failed because another process took its port between our probe and its bind. */
const lostPortRace = (err: unknown) => err instanceof RedisStartError && /Address already in use|bind/i.test(err.output)

async function waitForPort(port: number, child: TestProcess, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import('node:net')
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new RedisStartError(child.process.exitCode, child.output())
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.write('PING\r\n')
        socket.once('data', (data) => {
          socket.destroy()
          resolve(data.toString().startsWith('+PONG'))
        })
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server did not start on port ${port}: ${child.output().trim()}`)
}

/**
 * Starts one redis-server with `argsFor(port)` on a free port, retrying with another port when it lost a port race
 * (at most 5 times); every other failure is thrown with what redis-server said.
 */
async function launchRedis(
  argsFor: (port: number) => string[],
  portOptions: { plus?: number } = {},
): Promise<{ port: number; child: TestProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(portOptions)
    const child = startProcess('redis-server', argsFor(port))
    try {
      await waitForPort(port, child)
      return { port, child }
    } catch (err) {
      await child.stop('SIGKILL')
      if (attempt >= 5 || !lostPortRace(err)) throw err
    }
  }
}

/**
 * Starts `redis-server` on a free port (or uses REDIS_URL when set).
 *
 * @example
 * const redis = await startRedis()
 * t.teardown(() => redis.stop())
 */
export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  const prefix = `tgtest:${randomBytes(4).toString('hex')}:`
  const external = process.env.REDIS_URL
  if (external && !options.appendonly && !options.private && !options.args) {
    const url = new URL(external)
    const noop = async () => {}
    return { url: external, port: Number(url.port || 6379), prefix, kill: noop, restart: noop, stop: noop }
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-redis-'))
  const argsFor = (port: number) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--loglevel', 'warning']
    args.push('--appendonly', options.appendonly ? 'yes' : 'no')
    if (options.appendonly) args.push('--appendfsync', 'always')
    if (options.private) args.push('--enable-debug-command', 'local')
    args.push(...(options.args ?? []))
    return args
  }
  let { port, child } = await launchRedis(argsFor)
  const launch = async () => {
    // The same port again (clients reconnect to it): a lost race here is the test's failure, said with Redis's words.
    child = startProcess('redis-server', argsFor(port))
    await waitForPort(port, child)
  }
  const kill = async () => {
    await child.stop('SIGKILL')
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    prefix,
    kill,
    restart: launch,
    async stop() {
      await kill()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export interface TestRedisCluster {
  /** `host:port,host:port,…` as REDIS_CLUSTER_NODES takes it. */
  readonly nodes: string
  readonly seeds: { host: string; port: number }[]
  readonly prefix: string
  /** The ports of the nodes that are masters now (asked of a live node). */
  masters(): Promise<number[]>
  /** The port of the live master serving `key` (its slot, per CLUSTER KEYSLOT and CLUSTER NODES). */
  masterFor(key: string): Promise<number>
  /** SIGKILLs one node. */
  kill(port: number): Promise<void>
  /** Resolves once every live node reports `cluster_state:ok` and every slot has a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

async function runCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout?.on('data', (d) => {
      out += d
    })
    child.stderr?.on('data', (d) => {
      out += d
    })
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`redis-cli ${args.join(' ')}: ${out}`))))
  })
}

/** One command to a redis-server on 127.0.0.1 through redis-cli; its output. */
export const redisCli = (port: number, ...args: string[]) => runCli(['-p', String(port), ...args])

export interface ClusterOptions {
  readonly masters?: number
  /** Replicas per master. Default 0. */
  readonly replicas?: number
  /** `cluster-node-timeout`: how soon a dead master is failed over. Default 2 000 ms. */
  readonly nodeTimeoutMs?: number
}

/**
 * A local Redis Cluster on free ports (default 3 masters, no replicas), built with `redis-cli --cluster create`,
 * for the store suite, the refresh tests and failover tests.
 */
export async function startRedisCluster(options: ClusterOptions = {}): Promise<TestRedisCluster> {
  const masters = options.masters ?? 3
  const replicas = options.replicas ?? 0
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-cluster-'))
  const children = new Map<number, TestProcess>()
  const seeds: { host: string; port: number }[] = []
  const live = () =>
    [...children].filter(([, c]) => c.process.exitCode === null && c.process.signalCode === null).map(([p]) => p)
  const clusterInfo = async () => {
    for (const port of live()) {
      try {
        return { port, info: await redisCli(port, 'cluster', 'info'), nodes: await redisCli(port, 'cluster', 'nodes') }
      } catch {}
    }
    throw new Error('no live cluster node')
  }
  const waitHealthy = async (timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      let ok = true
      for (const port of live()) {
        const info = await redisCli(port, 'cluster', 'info').catch(() => '')
        if (!info.includes('cluster_state:ok')) ok = false
        // A replica counts once it has synced: before that it could not take over.
        const replication = await redisCli(port, 'info', 'replication').catch(() => '')
        if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) ok = false
      }
      if (ok) return
      if (Date.now() > deadline) throw new Error(`cluster did not become healthy: ${(await clusterInfo()).info}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      // The cluster bus listens on port + 10 000 (redis-server's default): both must be free.
      const { port, child } = await launchRedis(
        (port) => [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          String(options.nodeTimeoutMs ?? 2000),
          '--save',
          '',
          '--appendonly',
          'no',
          // Replicas sync at once (not after the 5 s a diskless master waits for more of them).
          '--repl-diskless-sync-delay',
          '0',
          '--dir',
          dir,
          '--loglevel',
          'warning',
        ],
        { plus: 10_000 },
      )
      children.set(port, child)
      seeds.push({ host: '127.0.0.1', port })
    }
    await runCli([
      '--cluster',
      'create',
      ...seeds.map((s) => `${s.host}:${s.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ])
    await waitHealthy()
  } catch (err) {
    await Promise.all([...children.values()].map((child) => child.stop('SIGKILL')))
    throw err
  }
  const stopChild = (child: TestProcess) => child.stop('SIGKILL')
  return {
    nodes: seeds.map((s) => `${s.host}:${s.port}`).join(','),
    seeds,
    prefix: `tgtest:${randomBytes(4).toString('hex')}:`,
    async masters() {
      const { nodes } = await clusterInfo()
      return nodes
        .split('\n')
        .filter((line) => / master /.test(` ${line} `.replace(/,/g, ' ')) && !line.includes('fail'))
        .map((line) => Number(/:(\d+)@/.exec(line)?.[1]))
        .filter((port) => live().includes(port))
    },
    async masterFor(key) {
      const { port, nodes } = await clusterInfo()
      const slot = Number((await redisCli(port, 'cluster', 'keyslot', key)).trim())
      for (const line of nodes.split('\n')) {
        const fields = line.trim().split(' ')
        if (!fields[2]?.includes('master') || fields[2].includes('fail')) continue
        for (const range of fields.slice(8)) {
          const [from, to = from] = range.split('-').map(Number)
          if (slot >= (from as number) && slot <= (to as number)) return Number(/:(\d+)@/.exec(fields[1] ?? '')?.[1])
        }
      }
      throw new Error(`no master serves slot ${slot}`)
    },
    async kill(port) {
      const child = children.get(port)
      if (child) await stopChild(child)
    },
    waitHealthy,
    async stop() {
      await Promise.all([...children.values()].map(stopChild))
      await rm(dir, { recursive: true, force: true })
    },
  }
}
