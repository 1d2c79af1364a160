// Starts the real auth server and resource API as processes on free ports, for end-to-end tests.
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort } from './ports.js'
import { startProcess } from './processes.js'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface Service {
  readonly url: string
  readonly port: number
  readonly process: ChildProcess
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** SIGTERM (or the given signal) to its process group and wait for exit (SIGKILL after 10 s). */
  stop(signal?: NodeJS.Signals): Promise<void>
}

export interface StartOptions {
  readonly env?: Record<string, string | undefined>
  /** Arguments after the entry point (`['dev', '--port', …]`). */
  readonly args?: readonly string[]
  readonly port?: number
  readonly cwd?: string
  /** Path polled until it answers 200. Default /readyz. */
  readonly readyPath?: string | null
  readonly timeoutMs?: number
}

/** Starts any service entry point as a process and waits for its readiness path. */
export async function spawnService(entry: string, options: StartOptions): Promise<Service> {
  const port = options.port ?? (await freePort())
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, LOG_LEVEL: 'warn', ...options.env, PORT: String(port) })) {
    if (v !== undefined) env[k] = v
  }
  const started = startProcess(process.execPath, [entry, ...(options.args ?? [])], { cwd: options.cwd ?? ROOT, env })
  const child = started.process
  const url = `http://127.0.0.1:${port}`
  const service: Service = {
    url,
    port,
    process: child,
    output: started.output,
    stop: (signal = 'SIGTERM') => started.stop(signal),
  }
  const readyPath = options.readyPath === undefined ? '/readyz' : options.readyPath
  if (readyPath === null) return service
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}:\n${started.output()}`)
    try {
      const res = await fetch(url + readyPath, { signal: AbortSignal.timeout(1000) })
      if (res.status === 200) return service
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  await service.stop('SIGKILL')
  throw new Error(`${entry} did not become ready:\n${started.output()}`)
}

/** The auth server; its per-IP token rate limit is off unless a test sets TOKEN_RATE_LIMIT (load tests share one IP). */
export const startAuthServer = (options: StartOptions = {}) =>
  spawnService(`${ROOT}packages/auth-server/dist/server.bundle.js`, {
    ...options,
    env: { TOKEN_RATE_LIMIT: '0', ...options.env },
  })

export const startResourceApi = (options: StartOptions = {}) =>
  spawnService(`${ROOT}packages/resource-api/dist/server.bundle.js`, options)

/** The gate (packages/gate), ready once it has the issuer's keys and the revocation backlog. */
export const startGate = (options: StartOptions = {}) =>
  spawnService(`${ROOT}packages/gate/dist/server.bundle.js`, options)
