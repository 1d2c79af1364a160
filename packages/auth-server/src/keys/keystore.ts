// Signing keys: loads RSA, P-256 and Ed25519 keys from KEYS_DIR (PEM or JWK), generates one for each algorithm of
// SIGNING_ALGS that has none, rotates each algorithm's keys on its own staged schedule, publishes the JWKS.
import type { KeyObject } from 'node:crypto'
import { createPublicKey } from 'node:crypto'
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { SigningAlgorithm } from '@tollgate/shared'
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
  /** Create an active key for each algorithm that has none (servers). Default true. */
  readonly generateIfMissing?: boolean
  /**
   * The algorithms keys are kept, published and rotated for (`SIGNING_ALGS`). Default `['RS256']`. Key files of other
   * algorithms are left alone: neither published nor used.
   */
  readonly algorithms?: readonly SigningAlgorithm[]
  /**
   * Where new private keys come from. Default: generated on demand. The test issuer hands out RSA keys generated
   * ahead of time, so starting one does not wait for RSA key generation.
   */
  readonly newPrivateKey?: (alg: SigningAlgorithm) => Promise<KeyObject>
}

/** Keys of one algorithm are added, rotated and retired by their own schedule. */
export interface AddKeyOptions extends Partial<KeyTimes> {
  /** Default RS256. */
  readonly alg?: SigningAlgorithm
}

/**
 * The set of signing keys, shared by every instance through KEYS_DIR.
 *
 * For each algorithm on its own: a key is *pending* (published, not signing)
 * until its activation time, then the newest activated key of the algorithm
 * *signs*; an older key keeps being published (*verifying*) until its successor
 * has been active for `retireAfterMs` — the longest lifetime of a token it could
 * have signed — and is then *retired*. All of it follows from the times in the
 * key files, so instances that read the same directory agree on the signing keys
 * without talking to each other.
 */
export class Keystore {
  readonly #dir: string | undefined
  readonly #algorithms: readonly SigningAlgorithm[]
  readonly #newPrivateKey: ((alg: SigningAlgorithm) => Promise<KeyObject>) | undefined
  readonly #now: () => number
  readonly #log: KeystoreOptions['log']
  readonly #publishDelayMs: number
  readonly #retireAfterMs: number
  /** Every key of a configured algorithm, sorted by activation; `#byAlg` holds the same, per algorithm. */
  #keys: SigningKey[] = []
  #byAlg = new Map<SigningAlgorithm, SigningKey[]>()
  /** Algorithms of key files that SIGNING_ALGS does not list, warned about once. */
  readonly #ignored = new Set<string>()
  #jwksBody = '{"keys":[]}'
  #jwksComputedFor = ''
  readonly #verificationKeys = new Map<string, KeyObject>()
  readonly #parsed = new Map<string, SigningKey>()
  readonly #timers: NodeJS.Timeout[] = []

  private constructor(options: KeystoreOptions) {
    this.#dir = options.dir
    this.#algorithms = [...new Set<SigningAlgorithm>(options.algorithms ?? ['RS256'])]
    if (this.#algorithms.length === 0) throw new TypeError('algorithms must list at least one algorithm')
    this.#newPrivateKey = options.newPrivateKey
    this.#now = options.now ?? Date.now
    this.#log = options.log
    this.#publishDelayMs = options.publishDelayMs ?? 0
    this.#retireAfterMs = options.retireAfterMs ?? 3_660_000
  }

  /**
   * Opens the keystore, generating and persisting an active key for each algorithm the directory holds none of
   * (RSA-2048 for RS256, P-256 for ES256, Ed25519 for EdDSA).
   *
   * @example
   * const keys = await Keystore.open({ dir: config.keysDir, algorithms: ['RS256', 'ES256'] })
   * const { kid, privateKey } = keys.signingKey('ES256')
   */
  static async open(options: KeystoreOptions): Promise<Keystore> {
    const store = new Keystore(options)
    await store.reload()
    if (options.generateIfMissing !== false) {
      for (const alg of store.#algorithms) {
        if (store.#activeKey(alg)) continue
        await store.#withLock(async () => {
          if (store.#activeKey(alg)) return
          const key = await store.add({ alg })
          store.#log?.warn(
            { kid: key.kid, alg, dir: store.#dir },
            `no ${alg} signing key found: generated a new ${KIND[alg]} key`,
          )
        })
      }
    }
    const reloadMs = options.reloadIntervalMs ?? 0
    if (reloadMs > 0 && store.#dir !== undefined) store.#every(reloadMs, () => store.reload())
    const rotateMs = options.rotationIntervalMs ?? 0
    if (rotateMs > 0) {
      store.#every(Math.min(rotateMs, 60_000), async () => {
        for (const alg of store.#algorithms) await store.rotateIfOlderThan(rotateMs, alg)
      })
    }
    return store
  }

  get directory(): string | undefined {
    return this.#dir
  }

  /** The algorithms this keystore keeps keys for (`SIGNING_ALGS`). */
  get algorithms(): readonly SigningAlgorithm[] {
    return this.#algorithms
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
    const byKid = new Map<string, SigningKey>()
    for (const key of loaded) {
      if (this.#algorithms.includes(key.alg)) byKid.set(key.kid, key)
      else if (!this.#ignored.has(key.alg)) {
        this.#ignored.add(key.alg)
        this.#log?.warn(
          { alg: key.alg, dir: this.#dir },
          `KEYS_DIR holds ${key.alg} keys but SIGNING_ALGS does not list ${key.alg}: they are neither published nor used`,
        )
      }
    }
    this.#install([...byKid.values()])
  }

  #install(keys: SigningKey[]): void {
    this.#keys = keys.sort(byActivation)
    this.#byAlg = new Map(this.#algorithms.map((alg) => [alg, this.#keys.filter((k) => k.alg === alg)]))
    this.#jwksComputedFor = ''
  }

  /** Adds a key of `alg` (default RS256) that is published now and signs from `activatesAt` (default: now). */
  async add(options: AddKeyOptions = {}): Promise<SigningKey> {
    const alg = this.#algorithm(options.alg ?? 'RS256')
    const createdAt = options.createdAt ?? this.#now()
    const jwk = await generateKeyJwk(
      alg,
      {
        createdAt,
        activatesAt: options.activatesAt ?? createdAt,
        ...(options.retiresAt === undefined ? {} : { retiresAt: options.retiresAt }),
      },
      await this.#newPrivateKey?.(alg),
    )
    const file = this.#dir === undefined ? undefined : path.join(this.#dir, `${jwk.kid}.json`)
    if (this.#dir !== undefined && file !== undefined) {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 })
      await writeFile(file, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    }
    const key = await fromJwk(jwk, file, createdAt)
    this.#install([...this.#keys.filter((k) => k.kid !== key.kid), key])
    this.#log?.info({ kid: key.kid, alg, activatesAt: new Date(key.activatesAt).toISOString() }, 'signing key added')
    return key
  }

  #algorithm(alg: SigningAlgorithm): SigningAlgorithm {
    if (!this.#algorithms.includes(alg)) {
      throw new KeystoreError(`${alg} is not one of SIGNING_ALGS (${this.#algorithms.join(', ')})`)
    }
    return alg
  }

  /**
   * Staged rotation of one algorithm's key (default RS256): a new key, published at once, signing after the publish
   * delay (longer than any verifier caches the JWKS). Retired key files are removed a day after retirement.
   */
  async rotate(alg: SigningAlgorithm = 'RS256'): Promise<SigningKey> {
    this.#algorithm(alg)
    return this.#withLock(async () => {
      await this.reload()
      // With no key of the algorithm signing yet there is nobody to stage for: the first key signs at once.
      const activatesAt = this.#activeKey(alg) ? this.#now() + this.#publishDelayMs : this.#now()
      const key = await this.add({ alg, activatesAt })
      await this.#pruneRetired()
      return key
    })
  }

  /** {@link rotate} for every algorithm of SIGNING_ALGS, one after another. */
  async rotateAll(): Promise<SigningKey[]> {
    const keys: SigningKey[] = []
    for (const alg of this.#algorithms) keys.push(await this.rotate(alg))
    return keys
  }

  /**
   * Rotates `alg`'s key (default RS256) when its newest key was created longer than `maxAgeMs` ago (automatic
   * rotation; every algorithm keeps its own schedule).
   */
  async rotateIfOlderThan(maxAgeMs: number, alg: SigningAlgorithm = 'RS256'): Promise<SigningKey | undefined> {
    this.#algorithm(alg)
    const newest = () => Math.max(...this.#of(alg).map((k) => k.createdAt))
    await this.reload()
    if (this.#now() - newest() < maxAgeMs) return undefined
    return this.#withLock(async () => {
      await this.reload()
      if (this.#now() - newest() < maxAgeMs) return undefined
      const key = await this.add({ alg, activatesAt: this.#now() + this.#publishDelayMs })
      await this.#pruneRetired()
      return key
    })
  }

  /** The keys of one algorithm, sorted by activation: the lifecycle is computed within them. */
  #of(alg: SigningAlgorithm): readonly SigningKey[] {
    return this.#byAlg.get(alg) ?? []
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
    return retiredAt(this.#of(key.alg), key, this.#retireAfterMs)
  }

  #isPublished(key: SigningKey, now = this.#now()): boolean {
    return isPublished(this.#of(key.alg), key, now, this.#retireAfterMs)
  }

  #isActive(key: SigningKey, now = this.#now()): boolean {
    return key.activatesAt <= now && this.#isPublished(key, now)
  }

  /** The most recently activated key of `alg`, if any. */
  #activeKey(alg: SigningAlgorithm, now = this.#now()): SigningKey | undefined {
    let best: SigningKey | undefined
    for (const key of this.#of(alg)) if (this.#isActive(key, now)) best = key // sorted by activation
    return best
  }

  /** The key that signs `alg` (default RS256) now: the most recently activated one of that algorithm. */
  signingKey(alg: SigningAlgorithm = 'RS256'): SigningKey {
    const best = this.#activeKey(alg)
    if (best) return best
    throw new KeystoreError(
      this.#algorithms.includes(alg) ? `no active ${alg} signing key` : `${alg} is not one of SIGNING_ALGS`,
    )
  }

  /** Whether every algorithm of SIGNING_ALGS has a key to sign with. */
  get ready(): boolean {
    const now = this.#now()
    return this.#algorithms.every((alg) => this.#activeKey(alg, now) !== undefined)
  }

  /** The public key for a `kid` this server published, for verifying its own tokens. */
  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    const key = this.#keys.find((k) => k.kid === kid && this.#isPublished(k))
    if (!key) return undefined
    const cached = this.#verificationKeys.get(kid)
    if (cached) return cached
    const imported = createPublicKey(key.privateKey)
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

  /** Every known key with its algorithm and lifecycle state, by algorithm (in SIGNING_ALGS order), oldest first. */
  list(alg?: SigningAlgorithm): KeyInfo[] {
    const now = this.#now()
    return (alg === undefined ? this.#algorithms : [alg]).flatMap((a) =>
      describeKeys(this.#of(a), now, this.#retireAfterMs, this.#activeKey(a, now)?.kid),
    )
  }
}

/** What a generated key of each algorithm is, in log lines. */
const KIND: Record<SigningAlgorithm, string> = { RS256: 'RSA-2048', ES256: 'P-256', EdDSA: 'Ed25519' }
