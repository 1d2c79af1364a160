// Signing keys: loads RSA keys from KEYS_DIR (PEM or JWK), generates one when there is none, publishes the JWKS.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCb,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto'
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

/** The members of a JWK this module reads (RFC 7517). */
export type JWK = JsonWebKey & { kid?: string; alg?: string; use?: string }

/** RFC 7638 JWK thumbprint of an RSA key: SHA-256 over the canonical JSON of e, kty, n. */
export function rsaThumbprint(n: string, e: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url')
}

const generateKeyPair = promisify(generateKeyPairCb)

/** The public half of a signing key as published in the JWKS. */
export interface PublicJwk {
  readonly kty: 'RSA'
  readonly kid: string
  readonly use: 'sig'
  readonly alg: 'RS256'
  readonly n: string
  readonly e: string
}

/** Lifecycle times of a key, in epoch milliseconds. */
export interface KeyTimes {
  readonly createdAt: number
  /** The key may sign from this time on; before it, it is only published. */
  readonly activatesAt: number
  /** From this time the key is neither published nor used. */
  readonly retiresAt?: number
}

export type KeyState = 'pending' | 'active' | 'verifying' | 'retired'

export interface SigningKey extends KeyTimes {
  readonly kid: string
  /** Never exported: it stays in this process (and in its file). */
  readonly privateKey: KeyObject
  readonly publicJwk: PublicJwk
  readonly file: string | undefined
}

export interface KeyInfo extends KeyTimes {
  readonly kid: string
  readonly state: KeyState
  readonly file: string | undefined
}

export interface KeystoreOptions {
  /** Directory of key files; `undefined` keeps keys in memory only (tests). */
  readonly dir: string | undefined
  readonly now?: () => number
  readonly log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
  /** How long a rotated-in key is published before it signs. Default 0. */
  readonly publishDelayMs?: number
  /** How long a superseded key stays published: the longest token lifetime plus skew. Default 61 min. */
  readonly retireAfterMs?: number
  /** Re-read the directory this often (other instances, the CLI). 0 = never. */
  readonly reloadIntervalMs?: number
  /** Rotate automatically when the newest key is older than this. 0 = never. */
  readonly rotationIntervalMs?: number
  /** Create an active key when there is none (servers). Default true. */
  readonly generateIfMissing?: boolean
}

/** Key files could not be used; the message says which and why (never key material). */
export class KeystoreError extends Error {
  override name = 'KeystoreError'
}

const KEY_FILE = /\.(pem|json)$/i
const MIN_MODULUS_BITS = 2048

function modulusBits(n: string): number {
  return Buffer.from(n, 'base64url').length * 8
}

async function fromJwk(jwk: JWK & { tollgate?: Record<string, unknown> }, file: string | undefined, mtime: number) {
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string' || typeof jwk.d !== 'string') {
    throw new KeystoreError('not an RSA private key')
  }
  if (modulusBits(jwk.n) < MIN_MODULUS_BITS) throw new KeystoreError(`RSA key shorter than ${MIN_MODULUS_BITS} bits`)
  const { kty, n, e, d, p, q, dp, dq, qi } = jwk
  const privateJwk = { kty, n, e, d, p, q, dp, dq, qi }
  const kid = rsaThumbprint(n, e)
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' })
  } catch {
    throw new KeystoreError('not a usable RSA private key')
  }
  const time = (value: unknown, fallback: number | undefined): number | undefined => {
    if (value === undefined || value === null) return fallback
    const t = typeof value === 'number' ? value : Date.parse(String(value))
    if (!Number.isFinite(t)) throw new KeystoreError('invalid tollgate lifecycle time')
    return t
  }
  const meta = jwk.tollgate ?? {}
  const createdAt = time(meta.created_at, mtime) ?? mtime
  const retiresAt = time(meta.retires_at, undefined)
  return {
    kid,
    privateKey,
    publicJwk: { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n, e } as PublicJwk,
    file,
    createdAt,
    activatesAt: time(meta.activates_at, createdAt) ?? createdAt,
    ...(retiresAt === undefined ? {} : { retiresAt }),
  } satisfies SigningKey
}

async function readKeyFile(file: string): Promise<SigningKey> {
  const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)])
  if (file.toLowerCase().endsWith('.json')) {
    let jwk: JWK
    try {
      jwk = JSON.parse(text) as JWK
    } catch {
      throw new KeystoreError('not valid JSON')
    }
    return fromJwk(jwk, file, info.mtimeMs)
  }
  let jwk: JWK
  try {
    jwk = createPrivateKey({ key: text, format: 'pem' }).export({ format: 'jwk' }) as JWK
  } catch {
    throw new KeystoreError('not a PEM private key')
  }
  return fromJwk(jwk, file, info.mtimeMs)
}

/** A freshly generated RSA-2048 private JWK carrying its lifecycle times. */
export async function generateKeyJwk(times: KeyTimes): Promise<JWK & { kid: string }> {
  const { privateKey } = await generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
  const jwk = privateKey.export({ format: 'jwk' }) as JWK
  const kid = rsaThumbprint(jwk.n as string, jwk.e as string)
  return {
    ...jwk,
    kid,
    alg: 'RS256',
    use: 'sig',
    tollgate: {
      created_at: new Date(times.createdAt).toISOString(),
      activates_at: new Date(times.activatesAt).toISOString(),
      ...(times.retiresAt === undefined ? {} : { retires_at: new Date(times.retiresAt).toISOString() }),
    },
  } as JWK & { kid: string }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Order of activation: the later key in this order supersedes the earlier. */
const order = (a: SigningKey, b: SigningKey): number =>
  a.activatesAt - b.activatesAt || a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0)

/**
 * The set of signing keys, shared by every instance through KEYS_DIR.
 *
 * A key is *pending* (published, not signing) until its activation time, then
 * the newest activated key *signs*; an older key keeps being published
 * (*verifying*) until its successor has been active for `retireAfterMs` — the
 * longest lifetime of a token it could have signed — and is then *retired*.
 * All of it follows from the times in the key files, so instances that read
 * the same directory agree on the signing key without talking to each other.
 */
export class Keystore {
  readonly #dir: string | undefined
  readonly #now: () => number
  readonly #log: KeystoreOptions['log']
  readonly #publishDelayMs: number
  readonly #retireAfterMs: number
  #keys: SigningKey[] = []
  #jwksBody = '{"keys":[]}'
  #jwksComputedFor = ''
  readonly #verificationKeys = new Map<string, KeyObject>()
  readonly #parsed = new Map<string, SigningKey>()
  readonly #timers: NodeJS.Timeout[] = []

  private constructor(options: KeystoreOptions) {
    this.#dir = options.dir
    this.#now = options.now ?? Date.now
    this.#log = options.log
    this.#publishDelayMs = options.publishDelayMs ?? 0
    this.#retireAfterMs = options.retireAfterMs ?? 3_660_000
  }

  /**
   * Opens the keystore, generating and persisting an active RSA-2048 key when
   * the directory holds none.
   *
   * @example
   * const keys = await Keystore.open({ dir: config.keysDir })
   * const { kid, privateKey } = keys.signingKey()
   */
  static async open(options: KeystoreOptions): Promise<Keystore> {
    const store = new Keystore(options)
    await store.reload()
    if (options.generateIfMissing !== false && !store.#keys.some((k) => store.#isActive(k))) {
      await store.#withLock(async () => {
        if (!store.#keys.some((k) => store.#isActive(k))) {
          const key = await store.add()
          store.#log?.warn({ kid: key.kid, dir: store.#dir }, 'no signing key found: generated a new RSA-2048 key')
        }
      })
    }
    const reloadMs = options.reloadIntervalMs ?? 0
    if (reloadMs > 0 && store.#dir !== undefined) store.#every(reloadMs, () => store.reload())
    const rotateMs = options.rotationIntervalMs ?? 0
    if (rotateMs > 0) store.#every(Math.min(rotateMs, 60_000), () => store.rotateIfOlderThan(rotateMs))
    return store
  }

  get directory(): string | undefined {
    return this.#dir
  }

  #every(ms: number, task: () => Promise<unknown>): void {
    let running = false
    const timer = setInterval(() => {
      if (running) return
      running = true
      task()
        .catch((err: Error) => this.#log?.warn({ reason: err.message }, 'key maintenance failed'))
        .finally(() => {
          running = false
        })
    }, ms)
    timer.unref()
    this.#timers.push(timer)
  }

  /** Stops the reload and rotation timers. */
  close(): void {
    for (const timer of this.#timers) clearInterval(timer)
    this.#timers.length = 0
  }

  /** Re-reads the key directory (keys added by another instance or the CLI); unchanged files are not re-parsed. */
  async reload(): Promise<void> {
    if (this.#dir === undefined) return
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    const names = (await readdir(this.#dir)).filter((name) => KEY_FILE.test(name)).sort()
    const loaded: SigningKey[] = []
    const failures: string[] = []
    const seen = new Set<string>()
    for (const name of names) {
      const file = path.join(this.#dir, name)
      try {
        const info = await stat(file)
        const cacheKey = `${file}:${info.mtimeMs}:${info.size}`
        seen.add(cacheKey)
        let key = this.#parsed.get(cacheKey)
        if (!key) {
          key = await readKeyFile(file)
          this.#parsed.set(cacheKey, key)
        }
        loaded.push(key)
      } catch (err) {
        const reason = err instanceof KeystoreError ? err.message : 'unreadable'
        failures.push(`${name}: ${reason}`)
        this.#log?.warn({ file: name, reason }, 'skipping unusable key file')
      }
    }
    for (const cacheKey of this.#parsed.keys()) if (!seen.has(cacheKey)) this.#parsed.delete(cacheKey)
    if (names.length > 0 && loaded.length === 0) {
      throw new KeystoreError(`no usable signing key in ${this.#dir} (${failures.join('; ')})`)
    }
    const byKid = new Map(loaded.map((k) => [k.kid, k]))
    this.#keys = [...byKid.values()].sort(order)
    this.#jwksComputedFor = ''
  }

  /** Adds a key that is published now and signs from `activatesAt` (default: now). */
  async add(times: Partial<KeyTimes> = {}): Promise<SigningKey> {
    const createdAt = times.createdAt ?? this.#now()
    const jwk = await generateKeyJwk({
      createdAt,
      activatesAt: times.activatesAt ?? createdAt,
      ...(times.retiresAt === undefined ? {} : { retiresAt: times.retiresAt }),
    })
    const file = this.#dir === undefined ? undefined : path.join(this.#dir, `${jwk.kid}.json`)
    if (this.#dir !== undefined && file !== undefined) {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 })
      await writeFile(file, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    }
    const key = await fromJwk(jwk, file, createdAt)
    this.#keys = [...this.#keys.filter((k) => k.kid !== key.kid), key].sort(order)
    this.#jwksComputedFor = ''
    this.#log?.info({ kid: key.kid, activatesAt: new Date(key.activatesAt).toISOString() }, 'signing key added')
    return key
  }

  /**
   * Staged rotation: a new key, published at once, signing after the publish
   * delay (longer than any verifier caches the JWKS). Retired key files are
   * removed a day after retirement.
   */
  async rotate(): Promise<SigningKey> {
    return this.#withLock(async () => {
      await this.reload()
      // With no key signing yet there is nobody to stage for: the first key signs at once.
      const activatesAt = this.ready ? this.#now() + this.#publishDelayMs : this.#now()
      const key = await this.add({ activatesAt })
      await this.#pruneRetired()
      return key
    })
  }

  /** Rotates when the newest key was created longer than `maxAgeMs` ago (automatic rotation). */
  async rotateIfOlderThan(maxAgeMs: number): Promise<SigningKey | undefined> {
    const newest = () => Math.max(...this.#keys.map((k) => k.createdAt))
    await this.reload()
    if (this.#now() - newest() < maxAgeMs) return undefined
    return this.#withLock(async () => {
      await this.reload()
      if (this.#now() - newest() < maxAgeMs) return undefined
      const key = await this.add({ activatesAt: this.#now() + this.#publishDelayMs })
      await this.#pruneRetired()
      return key
    })
  }

  async #pruneRetired(): Promise<void> {
    const cutoff = this.#now() - 86_400_000
    for (const key of this.#keys) {
      const retired = this.#retiredAt(key)
      if (key.file && retired !== undefined && retired < cutoff) {
        await rm(key.file, { force: true })
        this.#log?.info({ kid: key.kid }, 'retired key file removed')
      }
    }
    await this.reload()
  }

  /** One writer at a time across instances sharing the directory (O_EXCL lock file, stale after 30 s). */
  async #withLock<T>(task: () => Promise<T>): Promise<T> {
    if (this.#dir === undefined) return task()
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    const lockFile = path.join(this.#dir, '.keys.lock')
    for (let attempt = 0; attempt < 200; attempt++) {
      let handle: Awaited<ReturnType<typeof open>> | undefined
      try {
        handle = await open(lockFile, 'wx', 0o600)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        const age = Date.now() - (await stat(lockFile).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
        if (age > 30_000) await rm(lockFile, { force: true })
        await sleep(25 + Math.random() * 50)
        await this.reload()
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

  /** When a key stops being published: explicitly, or `retireAfterMs` after its successor activated. */
  #retiredAt(key: SigningKey): number | undefined {
    const index = this.#keys.indexOf(key)
    const successor = this.#keys.slice(index + 1).find((k) => k.retiresAt === undefined || k.retiresAt > k.activatesAt)
    const superseded = successor ? successor.activatesAt + this.#retireAfterMs : undefined
    if (key.retiresAt === undefined) return superseded
    return superseded === undefined ? key.retiresAt : Math.min(key.retiresAt, superseded)
  }

  #isPublished(key: SigningKey, now = this.#now()): boolean {
    const retired = this.#retiredAt(key)
    return retired === undefined || retired > now
  }

  #isActive(key: SigningKey, now = this.#now()): boolean {
    return key.activatesAt <= now && this.#isPublished(key, now)
  }

  /** The key that signs now: the most recently activated one. */
  signingKey(): SigningKey {
    const now = this.#now()
    let best: SigningKey | undefined
    for (const key of this.#keys) if (this.#isActive(key, now)) best = key // sorted by activation
    if (!best) throw new KeystoreError('no active signing key')
    return best
  }

  /** Whether a key is available to sign with. */
  get ready(): boolean {
    try {
      this.signingKey()
      return true
    } catch {
      return false
    }
  }

  /** The public key for a `kid` this server published, for verifying its own tokens. */
  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    const key = this.#keys.find((k) => k.kid === kid && this.#isPublished(k))
    if (!key) return undefined
    const cached = this.#verificationKeys.get(kid)
    if (cached) return cached
    const { kty, n, e } = key.publicJwk
    const imported = createPublicKey({ key: { kty, n, e }, format: 'jwk' })
    this.#verificationKeys.set(kid, imported)
    return imported
  }

  /** Every published key's public half. */
  publicKeys(): PublicJwk[] {
    const now = this.#now()
    return this.#keys.filter((k) => this.#isPublished(k, now)).map((k) => k.publicJwk)
  }

  /** The serialized JWKS, recomputed only when the published set changes. */
  jwksBody(): string {
    const keys = this.publicKeys()
    const id = keys.map((k) => k.kid).join(',')
    if (id !== this.#jwksComputedFor) {
      this.#jwksBody = JSON.stringify({ keys })
      this.#jwksComputedFor = id
    }
    return this.#jwksBody
  }

  /** Every known key with its lifecycle state, oldest first. */
  list(): KeyInfo[] {
    const now = this.#now()
    const signing = this.ready ? this.signingKey().kid : undefined
    return this.#keys.map((k) => {
      const retiresAt = this.#retiredAt(k)
      const state: KeyState = !this.#isPublished(k, now)
        ? 'retired'
        : k.activatesAt > now
          ? 'pending'
          : k.kid === signing
            ? 'active'
            : 'verifying'
      return {
        kid: k.kid,
        state,
        createdAt: k.createdAt,
        activatesAt: k.activatesAt,
        ...(retiresAt === undefined ? {} : { retiresAt }),
        file: k.file,
      }
    })
  }
}
