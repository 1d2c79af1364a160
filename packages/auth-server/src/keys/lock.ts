// One writer at a time in a directory shared by several processes: an O_EXCL lock file, considered stale after 30 s.
import { mkdir, open, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { KeystoreError } from './key-file.js'

const STALE_MS = 30_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs `task` holding `<dir>/.keys.lock`. While another process holds it, waits (calling `whileWaiting`, so the caller
 * sees what the holder writes) and takes over a lock older than 30 s, whose holder must have died.
 *
 * @example
 * await withDirectoryLock(dir, () => keystore.reload(), () => keystore.add())
 */
export async function withDirectoryLock<T>(
  dir: string,
  whileWaiting: () => Promise<unknown>,
  task: () => Promise<T>,
): Promise<T> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const lockFile = path.join(dir, '.keys.lock')
  for (let attempt = 0; attempt < 200; attempt++) {
    let handle: Awaited<ReturnType<typeof open>> | undefined
    try {
      handle = await open(lockFile, 'wx', 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const age = Date.now() - (await stat(lockFile).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
      if (age > STALE_MS) await rm(lockFile, { force: true })
      await sleep(25 + Math.random() * 50)
      await whileWaiting()
      continue
    }
    try {
      return await task()
    } finally {
      await handle.close()
      await rm(lockFile, { force: true })
    }
  }
  throw new KeystoreError(`could not acquire ${lockFile}`)
}
