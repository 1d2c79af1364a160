#!/usr/bin/env node
// `pnpm start`: runs the auth server, the resource API and the demo web app side by side, their JSON logs made
// readable and prefixed; prints the demo credentials once all three answer; stops all of them when one exits or on
// Ctrl-C / SIGTERM (exit 0). A mistake in the setup is one line naming the variable to change, before anything is
// built or started. `--build` builds first (what `pnpm start` runs).
// Ports: AUTH_PORT (3000), API_PORT (3001), WEB_PORT (3002). Request logs stay at warn unless LOG_LEVEL says
// otherwise. With REDIS_URL the demo clients and user are written into that Redis. Everything else passes through.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function fail(message) {
  process.stderr.write(`pnpm start: ${message}\n`)
  process.exit(1)
}

/** A port variable: an integer 1-65535 that nothing on this machine is listening on. */
async function portOf(name, fallback) {
  const raw = process.env[name] ?? fallback
  const port = Number(raw)
  if (!/^\d+$/.test(raw) || port < 1 || port > 65_535) fail(`${name}=${raw}: must be a port number (1-65535)`)
  const free = await new Promise((resolve) => {
    const probe = createServer()
      .once('error', () => resolve(false))
      .listen(port, process.env.HOST ?? '127.0.0.1', () => probe.close(() => resolve(true)))
  })
  if (!free)
    fail(`${name}=${port}: the port is already in use (stop what listens there, or set ${name} to another port)`)
  return String(port)
}

const authPort = await portOf('AUTH_PORT', '3000')
const apiPort = await portOf('API_PORT', '3001')
const webPort = await portOf('WEB_PORT', '3002')
if (new Set([authPort, apiPort, webPort]).size < 3) fail('AUTH_PORT, API_PORT and WEB_PORT must differ')
const issuer = process.env.ISSUER ?? `http://localhost:${authPort}`
const api = `http://localhost:${apiPort}`
const web = `http://localhost:${webPort}`
const logLevel = process.env.LOG_LEVEL ?? 'warn'

if (process.argv.includes('--build')) {
  process.stdout.write('pnpm start: building the packages…\n')
  const code = await new Promise((resolve) => {
    const build = spawn('pnpm', ['--silent', 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
    build.once('exit', (c) => resolve(c ?? 1))
    build.once('error', () => resolve(1))
  })
  if (code !== 0) fail('the build failed (see above)')
}

const services = [
  {
    name: 'auth',
    entry: 'packages/auth-server/dist/server.bundle.js',
    env: {
      PORT: authPort,
      ISSUER: issuer,
      DEMO_AUDIENCE: api,
      DEMO_WEB_ORIGIN: web,
      TOLLGATE_PORT_VARIABLE: 'AUTH_PORT',
      // The demo is what `pnpm start` is for: with REDIS_URL too (unless a bootstrap file says what to create).
      DEMO_SEED: process.env.DEMO_SEED ?? (process.env.BOOTSTRAP_FILE ? 'auto' : 'on'),
      BANNER_FORMAT: 'json',
    },
    ready: `http://127.0.0.1:${authPort}/readyz`,
  },
  {
    name: 'api ',
    entry: 'packages/resource-api/dist/server.bundle.js',
    env: {
      PORT: apiPort,
      ISSUER: issuer,
      AUDIENCE: process.env.AUDIENCE ?? api,
      CORS_ORIGINS: process.env.CORS_ORIGINS ?? web,
      TOLLGATE_PORT_VARIABLE: 'API_PORT',
    },
    ready: `http://127.0.0.1:${apiPort}/readyz`,
  },
  {
    name: 'web ',
    entry: 'packages/demo-web/dist/server.js',
    env: { PORT: webPort, AUTH_URL: issuer, API_URL: api, CLIENT_ID: process.env.CLIENT_ID ?? 'demo-web' },
    ready: `http://127.0.0.1:${webPort}/healthz`,
  },
]

// The servers log JSON (what production wants); here a person reads them. LOG_FORMAT=json keeps them as they are.
const pretty =
  process.env.LOG_FORMAT === 'json'
    ? undefined
    : (await import('pino-pretty')).prettyFactory({
        colorize: process.stdout.isTTY,
        translateTime: 'HH:MM:ss',
        ignore: 'pid,hostname',
        singleLine: true,
      })
const readable = (line) => {
  if (!pretty || !line.startsWith('{')) return line
  try {
    return pretty(line).trimEnd()
  } catch {
    return line
  }
}

/** The auth server's demo banner, held back until every service answers so it is the last thing on the screen. */
let banner

const children = services.map(({ name, entry, env }) => {
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: logLevel, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const prefix = (stream, out) => {
    let rest = ''
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        if (line.startsWith('{"tollgate_banner"')) {
          banner = JSON.parse(line).tollgate_banner
          continue
        }
        out.write(`[${name}] ${readable(line)}\n`)
      }
    })
  }
  prefix(child.stdout, process.stdout)
  prefix(child.stderr, process.stderr)
  child.on('exit', (code, signal) => {
    // Ctrl-C reaches the services and this script together (one process group): a service that stops for it is not a
    // failure, even when its exit is seen before this script's own SIGINT handler has run.
    setTimeout(() => {
      if (stopping) return
      process.stderr.write(`[${name}] exited (${signal ?? code})\n`)
      stop(code || 1)
    }, 200)
  })
  return child
})

let stopping = false
function stop(code) {
  if (stopping) return
  stopping = true
  // A service that failed to start: give the others a moment to say what is wrong with them too.
  const grace = code === 0 ? 0 : 1_000
  setTimeout(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  }, grace).unref()
  setTimeout(() => process.exit(code), 10_000 + grace).unref()
  Promise.all(
    children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.on('exit', r)) : null)),
  ).then(() => process.exit(code))
}
process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))

/** Polls every service's readiness (bounded: 60 s), then prints the banner and where to go. */
async function announce() {
  const deadline = Date.now() + 60_000
  for (const { name, ready } of services) {
    for (;;) {
      if (stopping) return
      const ok = await fetch(ready, { signal: AbortSignal.timeout(1_000) }).then(
        (res) => res.status === 200,
        () => false,
      )
      if (ok) break
      if (Date.now() > deadline) {
        process.stderr.write(
          `pnpm start: the ${name.trim()} service did not become ready within 60 s (see its log above)\n`,
        )
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  if (banner) process.stdout.write(`${banner}\n`)
  process.stdout.write(
    `  Everything is up. Open the demo web app: ${web}  (resource API ${api}, auth server ${issuer}; Ctrl-C stops all)\n\n`,
  )
}
void announce()
