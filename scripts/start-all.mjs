#!/usr/bin/env node
// `pnpm start`: runs the auth server, the resource API and the demo web app side by side, prefixing
// their output; stops all of them when one exits or on Ctrl-C / SIGTERM.
// Ports: AUTH_PORT (3000), API_PORT (3001), WEB_PORT (3002). Everything else passes through the environment.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const authPort = process.env.AUTH_PORT ?? '3000'
const apiPort = process.env.API_PORT ?? '3001'
const webPort = process.env.WEB_PORT ?? '3002'
const issuer = process.env.ISSUER ?? `http://localhost:${authPort}`
const api = `http://localhost:${apiPort}`
const web = `http://localhost:${webPort}`

const services = [
  {
    name: 'auth',
    entry: 'packages/auth-server/dist/server.bundle.js',
    env: { PORT: authPort, ISSUER: issuer, DEMO_AUDIENCE: api, DEMO_WEB_ORIGIN: web },
  },
  {
    name: 'api ',
    entry: 'packages/resource-api/dist/server.bundle.js',
    env: {
      PORT: apiPort,
      ISSUER: issuer,
      AUDIENCE: process.env.AUDIENCE ?? api,
      CORS_ORIGINS: process.env.CORS_ORIGINS ?? web,
    },
  },
  {
    name: 'web ',
    entry: 'packages/demo-web/dist/server.js',
    env: { PORT: webPort, AUTH_URL: issuer, API_URL: api, CLIENT_ID: process.env.CLIENT_ID ?? 'demo-web' },
  },
]

const children = services.map(({ name, entry, env }) => {
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const prefix = (stream, out) => {
    let rest = ''
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) out.write(`[${name}] ${line}\n`)
    })
  }
  prefix(child.stdout, process.stdout)
  prefix(child.stderr, process.stderr)
  child.on('exit', (code, signal) => {
    process.stderr.write(`[${name}] exited (${signal ?? code})\n`)
    stop(code ?? 1)
  })
  return child
})

let stopping = false
function stop(code) {
  if (stopping) return
  stopping = true
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
  setTimeout(() => process.exit(code), 10_000).unref()
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : null))).then(() =>
    process.exit(code),
  )
}
process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))
