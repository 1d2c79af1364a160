// Signing keys: loads RSA keys from KEYS_DIR (PEM or JWK), generates one when there is none, publishes the JWKS.
import type { KeyObject } from 'node:crypto'
import { createPublicKey } from 'node:crypto'
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  fromJwk,
  generateKeyJwk,
  KEY_FILE,
  type KeyInfo,
  KeystoreError,
  type KeyTimes,
  type PublicJwk,
  readKeyFile,
  type SigningKey,
} from './key-file.js'
import { byActivation, describeKeys, isPublished, retiredAt } from './lifecycle.js'
import { withDirectoryLock } from './lock.js'

export {
  type KeyInfo,
  type KeyState,
  KeystoreError,
  type KeyTimes,
  type PublicJwk,
  rsaThumbprint,
  type SigningKey,
} from './key-file.js'

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
  /**
   * Where new RSA private keys come from. Default: generated on demand. The test issuer hands out keys generated
   * ahead of time, so starting one does not wait for RSA key generation.
   */
  readonly newPrivateKey?: () => Promise<KeyObject>
}

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
  readonly #newPrivateKey: (() => Promise<KeyObject>) | undefined
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
    this.#newPrivateKey = options.newPrivateKey
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
    this.#keys = [...byKid.values()].sort(byActivation)
    this.#jwksComputedFor = ''
  }

  /** Adds a key that is published now and signs from `activatesAt` (default: now). */
  async add(times: Partial<KeyTimes> = {}): Promise<SigningKey> {
    const createdAt = times.createdAt ?? this.#now()
    const jwk = await generateKeyJwk(
      {
        createdAt,
        activatesAt: times.activatesAt ?? createdAt,
        ...(times.retiresAt === undefined ? {} : { retiresAt: times.retiresAt }),
      },
      await this.#newPrivateKey?.(),
    )
    const file = this.#dir === undefined ? undefined : path.join(this.#dir, `${jwk.kid}.json`)
    if (this.#dir !== undefined && file !== undefined) {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 })
      await writeFile(file, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    }
    const key = await fromJwk(jwk, file, createdAt)
    this.#keys = [...this.#keys.filter((k) => k.kid !== key.kid), key].sort(byActivation)
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

  /** One writer at a time across instances sharing the directory; the set is re-read while waiting. */
  #withLock<T>(task: () => Promise<T>): Promise<T> {
    if (this.#dir === undefined) return task()
    return withDirectoryLock(this.#dir, () => this.reload(), task)
  }

  #retiredAt(key: SigningKey): number | undefined {
    return retiredAt(this.#keys, key, this.#retireAfterMs)
  }

  #isPublished(key: SigningKey, now = this.#now()): boolean {
    return isPublished(this.#keys, key, now, this.#retireAfterMs)
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
    const signing = this.ready ? this.signingKey().kid : undefined
    return describeKeys(this.#keys, this.#now(), this.#retireAfterMs, signing)
  }
}
