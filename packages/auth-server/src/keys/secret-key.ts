// The server-side key for hashing client secrets: from CLIENT_SECRET_KEY, else kept beside the signing keys.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

export const SECRET_KEY_FILE = 'client-secret.key'

/**
 * The HMAC key for client secrets. Every instance (and the CLI) must use the
 * same one, so it lives in the shared KEYS_DIR unless given explicitly.
 *
 * @example
 * const key = await loadSecretKey(config.keysDir, config.clientSecretKey)
 */
export async function loadSecretKey(dir: string | undefined, configured: string | undefined): Promise<Buffer> {
  if (configured !== undefined) return Buffer.from(configured, 'base64url')
  if (dir === undefined) return randomBytes(32)
  const file = path.join(dir, SECRET_KEY_FILE)
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url')
    if (key.length >= 32) return key
    throw new Error(`${file} holds fewer than 32 bytes`)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const key = randomBytes(32)
  try {
    await writeFile(file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
    return key
  } catch (err) {
    // Another instance created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url')
  }
}
