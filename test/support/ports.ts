// Free TCP ports on 127.0.0.1 for services a test starts, reserved across every test process on the machine.
//
// The kernel's "port 0" hands out ports from the ephemeral range, where outgoing connections take their local ports
// too, and a port probed free can be taken by another test process before our service binds it. So ports come from
// below the ephemeral range, at random, and each is reserved by a file naming this process until it exits: two test
// runs on one machine (or two test files of one run) never pick the same port.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

const LOW = 10_000
/** Linux's ephemeral range starts at 32768. */
const HIGH = 32_000
const DIR = path.join(tmpdir(), 'tollgate-test-ports')
const mine = new Set<number>()
let cleanupInstalled = false

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the reservation file of `port`, or false when a live process holds it. */
function reserve(port: number): boolean {
  mkdirSync(DIR, { recursive: true })
  const file = path.join(DIR, String(port))
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      mine.add(port)
      if (!cleanupInstalled) {
        cleanupInstalled = true
        process.once('exit', () => {
          for (const p of mine) rmSync(path.join(DIR, String(p)), { force: true })
        })
      }
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false
      // Held: by a live process (skip the port) or left by one that died (take it over).
      let owner = 0
      let age = 0
      try {
        owner = Number(readFileSync(file, 'utf8'))
        age = Date.now() - statSync(file).mtimeMs
      } catch {}
      if (owner > 0 && alive(owner) && age < 3_600_000) return false
      rmSync(file, { force: true })
    }
  }
  return false
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * A port nothing listens on, reserved for this test process. With `plus`, also `port + plus` (Redis Cluster's bus
 * port is the node's port + 10 000).
 *
 * @example
 * const port = await freePort()
 */
export async function freePort(options: { plus?: number } = {}): Promise<number> {
  const plus = options.plus ?? 0
  for (let i = 0; i < 500; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW - plus))
    if (mine.has(port) || (plus > 0 && mine.has(port + plus))) continue
    if (!reserve(port)) continue
    if (plus > 0 && !reserve(port + plus)) continue
    if ((await bindable(port)) && (plus === 0 || (await bindable(port + plus)))) return port
  }
  throw new Error('no free port found')
}
