// Faults injected into a real redis-server: stalls by DEBUG SLEEP or CLIENT PAUSE, sent over a raw connection.
import { connect, type Socket } from 'node:net'

/** A RESP array of bulk strings. */
const resp = (args: readonly string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Whether Redis answers a PING on a fresh connection within `ms`. */
export async function answersWithin(port: number, ms: number): Promise<boolean> {
  const socket = await open(port)
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms)
      socket.once('data', () => {
        clearTimeout(timer)
        resolve(true)
      })
      socket.write(resp(['PING']))
    })
  } finally {
    socket.destroy()
  }
}

export interface Stall {
  /** Resolves when Redis is answering again (the stall is over). */
  readonly over: Promise<void>
}

/**
 * Stalls Redis for `seconds`: `DEBUG SLEEP` blocks every client (the server must run with `enable-debug-command`);
 * `CLIENT PAUSE … WRITE` blocks clients that write (scripts included). Resolves once the stall has begun.
 *
 * @example
 * const stall = await stallRedis(redis.port, 'sleep', 6)
 * … requests during the stall …
 * await stall.over
 */
export async function stallRedis(port: number, kind: 'sleep' | 'pause-write', seconds: number): Promise<Stall> {
  const socket = await open(port)
  const replied = new Promise<void>((resolve) => socket.once('data', () => resolve()))
  if (kind === 'pause-write') {
    socket.write(resp(['CLIENT', 'PAUSE', String(seconds * 1000), 'WRITE']))
    await replied
    socket.destroy()
    const over = new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000))
    return { over }
  }
  socket.write(resp(['DEBUG', 'SLEEP', String(seconds)]))
  const over = replied.then(() => {
    socket.destroy()
  })
  // Begun once a fresh connection's PING goes unanswered (the command may take a moment to be read).
  for (let i = 0; i < 100; i++) {
    if (!(await answersWithin(port, 250))) return { over }
  }
  throw new Error('DEBUG SLEEP did not take effect')
}
