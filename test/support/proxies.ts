// Real proxies for the gate's tests: Debian's nginx and Caddy as this process's children, their configuration taken
// verbatim from docs/gate.md (ports substituted), and the Python standard-library upstream of examples/polyglot.
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import { freePort } from './ports.js'
import { startProcess, stopWith } from './processes.js'
import { ROOT } from './services.js'

/** Debian installs nginx in /usr/sbin, which is not on every user's PATH. NGINX_PATH / CADDY_PATH override. */
const NGINX = process.env.NGINX_PATH ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx')
const CADDY = process.env.CADDY_PATH ?? 'caddy'

export interface ProxyProcess {
  readonly url: string
  readonly port: number
  output(): string
  stop(): Promise<void>
}

/** The ports the configurations in docs/gate.md use, and what the tests put in their place. */
export interface Ports {
  readonly gate: number
  readonly app: number
  readonly nginx?: number
  readonly caddy?: number
}

/** A fenced block of docs/gate.md, the one after `<!-- tested: name -->`, as a user would copy it. */
export async function documentedConfig(name: string): Promise<string> {
  const doc = await readFile(path.join(ROOT, 'docs/gate.md'), 'utf8')
  const marker = doc.indexOf(`<!-- tested: ${name} -->`)
  if (marker === -1) throw new Error(`docs/gate.md has no "<!-- tested: ${name} -->" block`)
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(doc.slice(marker))
  if (!match?.[1]) throw new Error(`docs/gate.md: no code block after the ${name} marker`)
  return match[1]
}

/** The documented configuration with the test's ports instead of 3003 (gate), 8081 (app), 8080/8082 (proxies). */
export function withPorts(config: string, ports: Ports): string {
  let out = config
    .replaceAll('127.0.0.1:3003', `127.0.0.1:${ports.gate}`)
    .replaceAll('127.0.0.1:8081', `127.0.0.1:${ports.app}`)
  if (ports.nginx) out = out.replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.nginx}`)
  if (ports.caddy) out = out.replaceAll('127.0.0.1:8082', `127.0.0.1:${ports.caddy}`)
  return out
}

async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output()}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms:\n${output()}`)
}

/**
 * Starts a child in its own process group, output kept (and shown when the test fails), stopped — its directory
 * removed — by the test's teardown; resolves once it listens on `port`.
 */
async function child(
  t: Test,
  command: string,
  args: string[],
  port: number,
  dir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProxyProcess> {
  const started = startProcess(command, args, { env })
  const stop = async () => {
    await started.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  }
  const proxy = { url: `http://127.0.0.1:${port}`, port, output: started.output, stop }
  stopWith(t, { [path.basename(command)]: proxy })
  try {
    await waitForPort(port, started.process, started.output)
  } catch (err) {
    await stop()
    throw new Error(`${command}: ${(err as Error).message}`)
  }
  return proxy
}

/**
 * Debian's nginx with `config` (what goes inside `http {}`) in a private prefix directory, one process
 * (`master_process off`), stopped by the test's teardown.
 */
export async function startNginx(t: Test, config: string, port: number): Promise<ProxyProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-nginx-'))
  // nginx running as root hands temporary files to its worker user: that user must reach the directory.
  await chmod(dir, 0o755)
  await mkdir(path.join(dir, 'tmp'))
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${dir}/tmp/${kind};`)
    .join('\n')
  await writeFile(path.join(dir, 'site.conf'), config)
  await writeFile(
    path.join(dir, 'nginx.conf'),
    `pid ${dir}/nginx.pid;\nevents { worker_connections 512; }\nhttp {\n  access_log off;\n${temp}\n  include ${dir}/site.conf;\n}\n`,
  )
  return child(
    t,
    NGINX,
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off; master_process off;'],
    port,
    dir,
  )
}

/** Debian's Caddy with a Caddyfile (its global block gets `admin off`), its state in a private directory. */
export async function startCaddy(t: Test, caddyfile: string, port: number): Promise<ProxyProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-caddy-'))
  const file = path.join(dir, 'Caddyfile')
  await writeFile(file, `{\n\tadmin off\n}\n\n${caddyfile}`)
  const env = {
    ...process.env,
    HOME: dir,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  }
  return child(t, CADDY, ['run', '--config', file, '--adapter', 'caddyfile'], port, dir, env)
}

/** What the upstream saw of one request (its JSON log line). */
export interface Seen {
  readonly method: string
  readonly path: string
  readonly identity: Record<string, string | null>
}

export interface Upstream extends ProxyProcess {
  /** Every request the upstream received so far. */
  seen(): Seen[]
}

/** examples/polyglot/app.py: a Python standard-library service that logs every request it receives. */
export async function startUpstream(t: Test): Promise<Upstream> {
  const port = await freePort()
  const proxy = await child(
    t,
    'python3',
    [path.join(ROOT, 'examples/polyglot/app.py'), '--port', String(port)],
    port,
    undefined,
  )
  return {
    ...proxy,
    seen: () =>
      proxy
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{"method"'))
        .map((line) => JSON.parse(line) as Seen),
  }
}
