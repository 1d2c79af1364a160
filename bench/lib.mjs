// Bench plumbing: free ports, processes, a private redis-server, autocannon runs, medians.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Polls `url` until it answers 2xx; resolves with the time it took. */
export async function waitReady(url, child, timeoutMs = 30_000) {
  const started = Date.now()
  while (Date.now() - started < timeoutMs) {
    if (child && child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before ${url} was ready`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(500) })
      if (res.ok) return Date.now() - started
    } catch {}
    await sleep(2)
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`)
}

/** Starts `node entry` with env; resolves once `readyPath` answers. */
export async function startProcess(entry, { env = {}, readyPath = '/', port } = {}) {
  const p = port ?? (await freePort())
  const started = process.hrtime.bigint()
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, ...env, PORT: String(p) },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const url = `http://127.0.0.1:${p}`
  try {
    await waitReady(url + readyPath, child)
  } catch (err) {
    child.kill('SIGKILL')
    throw new Error(`${entry}: ${err.message}\n${stderr}`)
  }
  const startupMs = Number(process.hrtime.bigint() - started) / 1e6
  return {
    url,
    port: p,
    startupMs,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', resolve)
        child.kill('SIGKILL')
      }),
  }
}

/** A private redis-server without persistence. */
export async function startRedis() {
  const port = await freePort()
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-bench-redis-'))
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  )
  const { Redis } = await import('ioredis')
  const client = new Redis({ port, lazyConnect: true, retryStrategy: () => 50 })
  client.on('error', () => {})
  for (let i = 0; i < 200; i++) {
    try {
      await client.connect()
      break
    } catch {
      await sleep(25)
    }
  }
  const version = (await client.info('server')).match(/redis_version:(\S+)/)?.[1]
  return {
    url: `redis://127.0.0.1:${port}`,
    client,
    version,
    async stop() {
      client.disconnect()
      child.kill('SIGKILL')
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** One autocannon run; resolves with requests/s, latency percentiles and the share of non-2xx answers. */
export function cannon(options) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ connections: 100, pipelining: 1, ...options }, (err, result) => {
      if (err) return reject(err)
      const total = result.requests.total || 1
      resolve({
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx + result.errors + result.timeouts,
        errorShare: (result.non2xx + result.errors + result.timeouts) / total,
      })
    })
    instance.on('error', reject)
  })
}
