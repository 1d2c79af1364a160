// Run it: `pnpm build && node examples/polyglot/run.mjs`. A Python standard-library service (app.py) behind Debian's
// nginx, which asks the Tollgate gate about every request; tokens from a test issuer (the real auth server, in
// memory). The Python service calls nothing of Tollgate's: it reads the X-Auth-* headers nginx sets.
//
//   client ──▶ nginx :8080 ──(auth_request)──▶ gate :3003 ◀──(keys, revocation events)── auth server :3100
//                 │
//                 ▼
//           app.py :8081  (orders, for X-Auth-Subject)
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestIssuer } from '@tollgate/auth-server/testing'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../..')

/** The ports of orders.conf (docs/gate.md), and the auth server's. */
export const DEFAULT_PORTS = { nginx: 8080, app: 8081, gate: 3003, issuer: 3100 }

/** Who may get tokens: a service that reads and writes orders, one that only reads, a user who signs in. */
export const CLIENTS = [
  {
    client_id: 'orders-cli',
    client_secret: 'orders-cli-secret-0123456789abcdef0123456789abcdef',
    grant_types: ['client_credentials'],
    scopes: ['orders:read', 'orders:write'],
  },
  {
    client_id: 'reports-cli',
    client_secret: 'reports-cli-secret-0123456789abcdef0123456789abcdef',
    grant_types: ['client_credentials'],
    scopes: ['orders:read'],
  },
  { client_id: 'orders-web', public: true, grant_types: ['password'], scopes: ['orders:read', 'orders:write'] },
]
export const USER = { username: 'alice', password: 'alice-password-123' }

const NGINX = process.env.NGINX_PATH ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx')

/** Resolves once something listens on the port (or rejects when the child exits first or time runs out). */
async function listening(port, child, output, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with ${child.exitCode}:\n${output()}`)
    const open = await new Promise((resolve) => {
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
  throw new Error(`${child.spawnfile}: nothing listens on ${port}:\n${output()}`)
}

/**
 * Starts the auth server, the Python service, the gate and nginx, each on its port; `close()` stops them all.
 *
 * @example
 * const demo = await startPolyglot()
 * await fetch(`${demo.url}/orders`, { headers: { authorization: `Bearer ${token}` } })
 *
 * @param {{ ports?: typeof DEFAULT_PORTS, log?: (line: string) => void }} [options]
 */
export async function startPolyglot({ ports = DEFAULT_PORTS, log = () => {} } = {}) {
  const children = []
  const scratch = await mkdtemp(path.join(tmpdir(), 'tollgate-polyglot-'))
  const url = `http://127.0.0.1:${ports.nginx}`
  let issuer
  const close = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            child.once('exit', resolve)
            child.kill('SIGTERM')
          }),
      ),
    )
    await issuer?.close()
    await rm(scratch, { recursive: true, force: true })
  }
  // A crash of this process must not leave the others running.
  process.once('exit', () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  })
  const start = async (name, command, args, options = {}) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
    children.push(child)
    let output = ''
    const keep = (d) => {
      output += d
      for (const line of String(d).split('\n')) if (line.trim()) log(`${name}: ${line}`)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    return { child, output: () => output }
  }
  try {
    // The audience is the URL clients use: nginx's.
    issuer = await createTestIssuer({
      port: ports.issuer,
      audience: url,
      scopes: ['orders:read', 'orders:write'],
      clients: CLIENTS.map((c) => ({ ...c, audiences: [url] })),
      users: [USER],
    })
    const app = await start('app', 'python3', [path.join(here, 'app.py'), '--port', String(ports.app)])
    await listening(ports.app, app.child, app.output)

    const gate = await start('gate', process.execPath, [path.join(root, 'packages/gate/dist/server.bundle.js')], {
      env: {
        ...process.env,
        PORT: String(ports.gate),
        ISSUER: issuer.url,
        AUDIENCE: url,
        GATE_POLICY: path.join(here, 'policy.json'),
        LOG_LEVEL: 'warn',
      },
    })
    await listening(ports.gate, gate.child, gate.output)
    for (let i = 0; i < 200 && (await fetch(`http://127.0.0.1:${ports.gate}/readyz`)).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50))
    }

    // nginx runs from a scratch directory: nginx.conf and orders.conf with this run's ports.
    await chmod(scratch, 0o755) // nginx started as root hands its temporary files to its worker user
    await mkdir(path.join(scratch, 'tmp'))
    await copyFile(path.join(here, 'nginx.conf'), path.join(scratch, 'nginx.conf'))
    const site = (await readFile(path.join(here, 'orders.conf'), 'utf8'))
      .replaceAll(`127.0.0.1:${DEFAULT_PORTS.gate}`, `127.0.0.1:${ports.gate}`)
      .replaceAll(`127.0.0.1:${DEFAULT_PORTS.app}`, `127.0.0.1:${ports.app}`)
      .replaceAll(`127.0.0.1:${DEFAULT_PORTS.nginx}`, `127.0.0.1:${ports.nginx}`)
    await writeFile(path.join(scratch, 'orders.conf'), site)
    const nginx = await start('nginx', NGINX, [
      '-p',
      scratch,
      '-c',
      path.join(scratch, 'nginx.conf'),
      '-e',
      'stderr',
      '-g',
      'daemon off; master_process off;',
    ])
    await listening(ports.nginx, nginx.child, nginx.output)
  } catch (err) {
    await close()
    throw err
  }
  return { url, issuer, close }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const demo = await startPolyglot({ log: (line) => console.log(line) })
  const [writer, reader] = CLIENTS
  const token = (c) =>
    `$(curl -s -u ${c.client_id}:${c.client_secret} -d grant_type=client_credentials ${demo.issuer.tokenEndpoint} | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')`
  console.log(`
The orders service (Python) behind nginx and the Tollgate gate: ${demo.url}

  W=${token(writer)}
  curl -s -XPOST -H "authorization: Bearer $W" -d '{"item":"tea"}' ${demo.url}/orders    # 201: created for orders-cli
  curl -s -H "authorization: Bearer $W" ${demo.url}/orders                              # 200: its orders
  R=${token(reader)}
  curl -si -XPOST -H "authorization: Bearer $R" ${demo.url}/orders                     # 403: no orders:write
  curl -si ${demo.url}/orders                                                         # 401: no token
  curl -s -H 'X-Auth-Subject: admin' ${demo.url}/health                              # the service never sees "admin"

Ctrl-C stops everything.`)
  const stop = async () => {
    await demo.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
