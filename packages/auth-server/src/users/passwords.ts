// User passwords: argon2id at OWASP's minimum parameters, hashed and verified on the libuv pool, off the event loop.
import { availableParallelism } from 'node:os'
import type argon2Module from 'argon2'

// Loaded on the first password operation: a server with no users to hash at startup starts without the native module.
let argon2: typeof argon2Module | undefined
const load = async () => {
  argon2 ??= (await import('argon2')).default
  return argon2
}

/**
 * How many argon2 computations run at once: one core is always left to the event loop and to the libuv pool's other
 * work (RS256 signing for the token endpoint, file reads). Without a limit a burst of logins fills all four pool
 * threads with 20 ms hashes: health checks, the JWKS and client_credentials tokens then wait behind them.
 */
export const HASH_CONCURRENCY = Math.max(1, Math.min(availableParallelism() - 1, 3))
let running = 0
let checks = 0
const waiting: (() => void)[] = []

/** Runs `work` when a hashing slot is free; slots are handed over in arrival order. */
async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= HASH_CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve))
  else running++
  try {
    return await work()
  } finally {
    const next = waiting.shift()
    if (next) next()
    else running--
  }
}

/** OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1. */
export const PASSWORD_PARAMS = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1 })

/** Longest password accepted; argon2 would take anything, but nobody needs more and it bounds the work. */
export const MAX_PASSWORD_LENGTH = 1024

// A hash of a random, forgotten password with the same parameters: verifying against it
// costs what a real check costs, so an unknown username is not faster than a wrong password.
const DUMMY_HASH = '$argon2id$v=19$m=19456,p=1,t=2$Ks7p4CGAvV20dSqaeKSHmw$YgtCkQSx7fzoMs3ZelZgylR+OooMUVGAKgqvLOetAn4'

/** An argon2id PHC string for the password. */
export async function hashPassword(password: string): Promise<string> {
  const a = await load()
  return inSlot(() => a.hash(password, { type: a.argon2id, ...PASSWORD_PARAMS }))
}

export interface PasswordCheck {
  readonly ok: boolean
  /** A fresh hash when the stored one used weaker or different parameters. */
  readonly rehash?: string
}

/**
 * Checks a password against a stored hash, or against a dummy hash when there
 * is no user, so both cases take the same time and give the same answer.
 *
 * @example
 * const { ok, rehash } = await verifyPassword(user?.passwordHash, password)
 */
export async function verifyPassword(stored: string | undefined, password: string): Promise<PasswordCheck> {
  if (password.length > MAX_PASSWORD_LENGTH) return { ok: false }
  const a = await load()
  let ok = false
  try {
    checks++
    ok = await inSlot(() => a.verify(stored ?? DUMMY_HASH, password))
  } catch {
    ok = false
  }
  if (!ok || stored === undefined) return { ok: false }
  const outdated = !stored.startsWith('$argon2id$') || a.needsRehash(stored, PASSWORD_PARAMS)
  return outdated ? { ok: true, rehash: await hashPassword(password) } : { ok: true }
}

/** Hashing slots in use and requests waiting for one (for tests and diagnostics). */
export function hashingLoad(): { readonly running: number; readonly waiting: number } {
  return { running, waiting: waiting.length }
}

/** How many password checks (argon2 verifications, real or dummy) this process has run. */
export function passwordChecks(): number {
  return checks
}
