#!/usr/bin/env node
// `pnpm test` after the build: runs tap (arguments passed through), then checks that no process a test started is
// still alive. Every process of the run carries TOLLGATE_TEST_RUN=<id> in its environment (it is inherited), so a
// leftover is found by its environment whatever started it; leftovers are named, killed, and fail the run.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const runId = randomUUID()
const marker = `TOLLGATE_TEST_RUN=${runId}`

const tap = spawn(`${root}node_modules/.bin/tap`, process.argv.slice(2), {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TOLLGATE_TEST_RUN: runId },
})
// Ctrl-C reaches tap through the terminal; this script only waits for it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => tap.kill(signal))
const status = await new Promise((resolve) => {
  tap.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  tap.once('error', (err) => {
    process.stderr.write(`pnpm test: cannot run tap: ${err.message}\n`)
    resolve(1)
  })
})

/** Live processes of this run, other than this script: `[pid, command line]`. */
function leftovers() {
  if (!existsSync('/proc/self/environ')) return []
  const found = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(marker)) continue
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim()
      const state = /State:\s+(\S)/.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]
      if (state !== 'Z') found.push([Number(name), cmdline])
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found
}

// Teardowns that have just signalled their processes get a moment to see them exit.
let left = leftovers()
for (let i = 0; i < 50 && left.length > 0; i++) {
  await new Promise((resolve) => setTimeout(resolve, 100))
  left = leftovers()
}
if (left.length > 0) {
  process.stderr.write(`\npnpm test: ${left.length} process(es) started by the tests were still running; killed:\n`)
  for (const [pid, cmdline] of left) {
    process.stderr.write(`  ${pid} ${cmdline.slice(0, 200)}\n`)
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  process.exit(1)
}
process.exit(status)
