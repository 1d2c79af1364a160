// A private redis-server per test file, on a free port, with no persistence; REDIS_URL overrides it.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort } from './ports.js'
import { reapOnExit } from './reaper.js'

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
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import('node:net')
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
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
  throw new Error(`redis-server did not start on port ${port}`)
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
  if (external && !options.appendonly) {
    const url = new URL(external)
    const noop = async () => {}
    return { url: external, port: Number(url.port || 6379), prefix, kill: noop, restart: noop, stop: noop }
  }
  const port = await freePort()
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--loglevel', 'warning']
  args.push('--appendonly', options.appendonly ? 'yes' : 'no')
  if (options.appendonly) args.push('--appendfsync', 'always')
  let child: ChildProcess
  const launch = async () => {
    child = reapOnExit(spawn('redis-server', args, { stdio: 'ignore' }))
    await waitForPort(port, child)
  }
  await launch()
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
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

/**
 * A local 3-master Redis Cluster (no replicas) on free ports, built with
 * `redis-cli --cluster create`, for the store suite and the refresh tests.
 */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-cluster-'))
  const children: ChildProcess[] = []
  const seeds: { host: string; port: number }[] = []
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      const busPort = await freePort()
      const child = reapOnExit(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '2000',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            dir,
            '--loglevel',
            'warning',
          ],
          { stdio: 'ignore' },
        ),
      )
      children.push(child)
      await waitForPort(port, child)
      seeds.push({ host: '127.0.0.1', port })
    }
    await runCli([
      '--cluster',
      'create',
      ...seeds.map((s) => `${s.host}:${s.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    const deadline = Date.now() + 20_000
    for (const seed of seeds) {
      for (;;) {
        const info = await runCli(['-p', String(seed.port), 'cluster', 'info'])
        if (info.includes('cluster_state:ok')) break
        if (Date.now() > deadline) throw new Error(`cluster did not become ready: ${info}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  } catch (err) {
    for (const child of children) child.kill('SIGKILL')
    throw err
  }
  return {
    nodes: seeds.map((s) => `${s.host}:${s.port}`).join(','),
    seeds,
    prefix: `tgtest:${randomBytes(4).toString('hex')}:`,
    async stop() {
      await Promise.all(
        children.map((child) =>
          child.exitCode !== null
            ? undefined
            : new Promise((resolve) => {
                child.once('exit', resolve)
                child.kill('SIGKILL')
              }),
        ),
      )
      await rm(dir, { recursive: true, force: true })
    },
  }
}
