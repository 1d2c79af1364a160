// @tollgate/auth-server/testing: the real auth server, in-process, for other teams' integration tests.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { algorithmOfKey, jwkThumbprint, publicJwkOf, type SigningAlgorithm } from '@tollgate/shared'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { applyBootstrap } from './bootstrap.js'
import type { ClientInput } from './clients/client.js'
import { generateSecret, SecretHasher } from './clients/secrets.js'
import type { TrustedIssuerInput } from './clients/trusted-issuers.js'
import { loadConfig } from './config.js'
import { newPrivateKey, newRsaKey } from './keys/key-file.js'
import { Keystore } from './keys/keystore.js'
import type { ResourceInput } from './resources.js'
import { MemoryStore } from './store/memory/memory-store.js'
import { testControls } from './testing/controls.js'
import { createTestPlatform, type TestPlatform, type TestPlatformOptions } from './testing/platform.js'
import { ID_TOKEN_TTL } from './tokens/signer.js'
import type { UserInput } from './users/user.js'

export type { SigningAlgorithm } from '@tollgate/shared'
export type { ClientInput } from './clients/client.js'
export type { TrustedIssuerInput } from './clients/trusted-issuers.js'
export type { ResourceInput } from './resources.js'
export {
  createTestPlatform,
  type PlatformTokenOptions,
  type TestPlatform,
  type TestPlatformOptions,
} from './testing/platform.js'
export type { UserInput } from './users/user.js'

export interface TestIssuerOptions {
  /** More clients to register, besides the default {@link TestIssuer.client}. */
  readonly clients?: ClientInput[]
  /** Users who can sign in with the password grant. Default: none. */
  readonly users?: UserInput[]
  /** Access-token lifetime in seconds. Default 300. */
  readonly accessTokenTtl?: number
  /**
   * Start the clock at this time and keep it still until {@link TestClock.advance} or {@link TestClock.set} moves it.
   * Default: the clock follows real time (and can still be moved forward).
   */
  readonly now?: number | Date
  /** Audience of the default client and of minted tokens. Default `https://api.test`. */
  readonly audience?: string
  /** Scopes of the default client. Default `openid profile email`. */
  readonly scopes?: readonly string[]
  /** Any other auth-server setting, by its environment name (e.g. `REFRESH_IDLE_TTL`, `REFRESH_REUSE_GRACE`). */
  readonly env?: Record<string, string>
  /** Log level of the server's JSON logs on stdout (e.g. `warn`). Default: no logs. */
  readonly logLevel?: string
  /** Listen on this port (default: a free one) and host (default `127.0.0.1`). */
  readonly port?: number
  readonly host?: string
  /** The issuer URL, when clients reach the server by another name (a container's). Default `http://<host>:<port>`. */
  readonly issuer?: string
  /**
   * The algorithm access tokens are signed with, as production's `ACCESS_TOKEN_SIGNING_ALG` (with `SIGNING_ALGS`
   * RS256 and this one). Default RS256.
   */
  readonly algorithm?: SigningAlgorithm
  /** Every algorithm to keep keys for (`SIGNING_ALGS`); RS256 and `algorithm` are always among them. */
  readonly signingAlgs?: readonly SigningAlgorithm[]
  /** Audiences with their own access-token algorithm, as the bootstrap file's `resources`. */
  readonly resources?: ResourceInput[]
  /** Platforms whose tokens authenticate the clients that list them, as the bootstrap file's `trusted_issuers`. */
  readonly trustedIssuers?: TrustedIssuerInput[]
  /**
   * Start a fake platform issuer ({@link createTestPlatform}), trust it, and register {@link TestIssuer.workload}, a
   * client that is one of its service accounts. Default: no platform.
   */
  readonly platform?: boolean | TestPlatformOptions
  /**
   * Signing keys to use (RSA, P-256 or Ed25519 private keys), in order per algorithm (the first of each signs;
   * `rotateKeys()` takes the next), instead of generated ones.
   */
  readonly keys?: readonly KeyObject[]
  /**
   * Serve the test controls over HTTP under `/_test/` (mint a token, move the clock, rotate keys, end sessions,
   * reset), for test suites in other languages (`tollgate dev`). Loopback callers only, unless `allowRemote`.
   */
  readonly controls?: boolean | { readonly allowRemote?: boolean }
}

/** The issuer's clock: every timestamp, TTL and expiry in the server follows it. */
export interface TestClock {
  /** Epoch milliseconds. */
  now(): number
  /** Moves time forward (seconds). */
  advance(seconds: number): void
  /** Sets the time (it stays still from then on until moved again). */
  set(time: number | Date): void
  /** Follows real time again. */
  reset(): void
}

export interface MintOptions {
  /** Default `test-user`. */
  readonly sub?: string
  /** Space-separated string or list. Default: no scopes. */
  readonly scope?: string | readonly string[]
  /** Default: the issuer's `audience` option. */
  readonly audience?: string | readonly string[]
  /** Default: the default client's id. */
  readonly clientId?: string
  readonly roles?: readonly string[]
  /** Lifetime in seconds; 0 or negative mints an already expired token. Default `accessTokenTtl`. */
  readonly expiresIn?: number
  /** The session the token belongs to (so ending it, or its revocation event, covers the token). */
  readonly sid?: string
  /** Seconds since the epoch. */
  readonly authTime?: number
}

export interface TestIssuer {
  /** The issuer URL (`iss` of every token), where discovery metadata lives. */
  readonly url: string
  readonly tokenEndpoint: string
  readonly jwksUri: string
  /**
   * The default client, always registered: confidential, with the client_credentials, password and refresh_token
   * grants, the `scopes` option's scopes and the `audience` option's audience.
   */
  readonly client: { readonly clientId: string; readonly clientSecret: string; readonly audience: string }
  /**
   * A client without a secret, always registered with the default client's grants, scopes and audience: it
   * authenticates with `private_key_jwt`, signing assertions with `privateKey` (ES256, published inline as `jwk`).
   */
  readonly keyClient: {
    readonly clientId: string
    readonly privateKey: KeyObject
    readonly kid: string
    readonly alg: 'ES256'
    /** Its public JWK, as registered. */
    readonly jwk: Readonly<Record<string, unknown>>
    readonly audience: string
  }
  /** With the `platform` option: the fake platform, trusted by this issuer. */
  readonly platform: TestPlatform | undefined
  /**
   * With the `platform` option: a client whose identity is the platform's service account `subject`
   * (`system:serviceaccount:default:test-workload`); its platform tokens (audience: this issuer) authenticate it.
   */
  readonly workload: { readonly clientId: string; readonly subject: string; readonly audience: string } | undefined
  /** The Fastify instance, for `inject()`. */
  readonly app: FastifyInstance
  readonly clock: TestClock
  /** Signs an access token exactly as the token endpoint would, with these claims. */
  mintAccessToken(options?: MintOptions): Promise<string>
  /**
   * Adds a signing key of `alg` (default: of every algorithm) that is published and signs at once; the previous key
   * stays published. Returns the new `kid` of `alg` (default: of the access-token algorithm).
   */
  rotateKeys(alg?: SigningAlgorithm): Promise<string>
  /** Ends every session (refresh-token family) of a user, by username; returns how many ended. */
  endSessions(username: string): Promise<number>
  /** Forgets every session, code and counter, registers the clients and users again, and follows real time. */
  reset(): Promise<void>
  close(): Promise<void>
}

/**
 * RSA keys generated ahead: generating one takes 50-500 ms, which no test should wait for. Every test issuer of a
 * process starts with the same first key (their issuers differ, so no token of one is accepted by another's
 * verifiers); `rotateKeys()` takes a fresh key generated in the background after the previous rotation.
 */
let processKey: Promise<KeyObject> | undefined
let spareKey: Promise<KeyObject> | undefined
const firstKey = () => (processKey ??= cachedTestKey())
function rotationKey(): Promise<KeyObject> {
  const key = spareKey ?? newRsaKey()
  spareKey = newRsaKey()
  spareKey.catch(() => {})
  return key
}
// Start at import: by the time a test creates its issuer the key is usually there.
firstKey().catch(() => {})

/**
 * The first key, kept between test runs in `node_modules/.cache/tollgate/` (or the temp directory), readable by this
 * user only: a test process starts without generating one. It is a test issuer's key and signs nothing else.
 */
async function cachedTestKey(): Promise<KeyObject> {
  const dir = existsSync(path.resolve('node_modules'))
    ? path.resolve('node_modules', '.cache', 'tollgate')
    : path.join(tmpdir(), `tollgate-test-${process.getuid?.() ?? 'user'}`)
  const file = path.join(dir, 'test-issuer-key.pem')
  try {
    return createPrivateKey(await readFile(file, 'utf8'))
  } catch {
    const key = await newRsaKey()
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 })
      const temp = `${file}.${process.pid}`
      await writeFile(temp, key.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 })
      await rename(temp, file)
    } catch {
      // A read-only tree: the key is simply generated again next time.
    }
    return key
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function testClock(start: number | Date | undefined): TestClock {
  let frozen = start === undefined ? undefined : Number(start)
  let offset = 0
  return {
    now: () => (frozen === undefined ? Date.now() + offset : frozen),
    advance(seconds) {
      if (frozen === undefined) offset += seconds * 1000
      else frozen += seconds * 1000
    },
    set(time) {
      frozen = Number(time)
    },
    reset() {
      frozen = undefined
      offset = 0
    },
  }
}

const list = (v: string | readonly string[] | undefined): string[] =>
  v === undefined ? [] : typeof v === 'string' ? v.split(' ').filter(Boolean) : [...v]

/**
 * Starts the real Tollgate auth server in this process, on a free port of 127.0.0.1, with the in-memory store and
 * keys held in memory: the same code paths as production, ready in milliseconds.
 *
 * @example
 * const issuer = await createTestIssuer({ audience: 'http://orders.test', scopes: ['orders:read'] })
 * t.teardown(() => issuer.close())
 * const token = await issuer.mintAccessToken({ scope: 'orders:read' })
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const clock = testClock(options.now)
  const audience = options.audience ?? 'https://api.test'
  const defaultClient = {
    clientId: 'test-client',
    clientSecret: generateSecret(),
    audience,
  }
  const scopes = [...(options.scopes ?? ['openid', 'profile', 'email'])]
  // A key client's key: P-256 costs well under a millisecond to generate.
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const publicMembers = publicJwkOf(keyPair.publicKey)
  const keyJwk = { ...publicMembers, kid: jwkThumbprint(publicMembers), alg: 'ES256', use: 'sig' }
  const keyClient = {
    clientId: 'test-key-client',
    privateKey: keyPair.privateKey,
    kid: keyJwk.kid,
    alg: 'ES256' as const,
    jwk: keyJwk,
    audience,
  }
  const platform =
    options.platform === undefined || options.platform === false
      ? undefined
      : await createTestPlatform(options.platform === true ? {} : options.platform)
  const workload = platform && {
    clientId: 'test-workload',
    subject: 'system:serviceaccount:default:test-workload',
    audience,
  }
  const clients: ClientInput[] = [
    {
      client_id: defaultClient.clientId,
      client_secret: defaultClient.clientSecret,
      grant_types: ['client_credentials', 'password', 'refresh_token'],
      scopes,
      audiences: [audience],
    },
    {
      client_id: keyClient.clientId,
      jwks: { keys: [keyJwk] },
      grant_types: ['client_credentials'],
      scopes,
      audiences: [audience],
    },
    ...(platform && workload
      ? [
          {
            client_id: workload.clientId,
            federated_identities: [{ issuer: platform.issuer, subject: workload.subject }],
            grant_types: ['client_credentials'],
            scopes,
            audiences: [audience],
          },
        ]
      : []),
    ...(options.clients ?? []),
  ]
  const trustedIssuers = [
    ...(platform ? [{ issuer: platform.issuer, jwks_uri: platform.jwksUri }] : []),
    ...(options.trustedIssuers ?? []),
  ]

  const host = options.host ?? '127.0.0.1'
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort())
    const url = options.issuer ?? `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`
    const algorithm = options.algorithm ?? 'RS256'
    const signingAlgs = [...new Set(['RS256', algorithm, ...(options.signingAlgs ?? [])])]
    const config = loadConfig({
      LOG_LEVEL: options.logLevel ?? 'warn',
      TOKEN_RATE_LIMIT: '0',
      KEY_PUBLISH_DELAY: '0',
      SIGNING_ALGS: signingAlgs.join(','),
      ACCESS_TOKEN_SIGNING_ALG: algorithm,
      ...options.env,
      ISSUER: url,
      PORT: String(port),
      HOST: host,
      ...(options.accessTokenTtl === undefined ? {} : { ACCESS_TOKEN_TTL: String(options.accessTokenTtl) }),
    })
    const store = new MemoryStore({ now: clock.now })
    // The given keys of each algorithm, in order; RSA keys come from the ahead-generated ones, the others are cheap.
    const used = new Map<SigningAlgorithm, number>()
    const keystore = await Keystore.open({
      dir: undefined,
      algorithms: config.signingAlgs,
      newPrivateKey: (alg) => {
        const index = used.get(alg) ?? 0
        used.set(alg, index + 1)
        const given = options.keys?.filter((key) => algorithmOfKey(key) === alg)[index]
        if (given) return Promise.resolve(given)
        if (alg !== 'RS256') return newPrivateKey(alg)
        return index === 0 ? firstKey() : rotationKey()
      },
      now: clock.now,
      publishDelayMs: 0,
      retireAfterMs: (Math.max(config.accessTokenTtl, ID_TOKEN_TTL) + 60) * 1000,
    })
    const secretKey = Buffer.from(generateSecret(), 'base64url')
    const hasher = new SecretHasher(secretKey)
    const register = () =>
      applyBootstrap(
        {
          clients,
          users: options.users ?? [],
          ...(options.resources ? { resources: options.resources } : {}),
          ...(trustedIssuers.length > 0 ? { trusted_issuers: trustedIssuers } : {}),
        },
        store,
        hasher,
        clock.now(),
        config,
      )
    const { resources, trustedIssuers: trusted } = await register()
    const app = await buildApp({
      config,
      store,
      keystore,
      secretKey,
      resources,
      trustedIssuers: trusted,
      now: clock.now,
      ...(options.logLevel ? {} : { logger: false }),
    })
    let issuer: TestIssuer | undefined
    if (options.controls) {
      const allowRemote = typeof options.controls === 'object' && options.controls.allowRemote === true
      await app.register(testControls, { issuer: () => issuer as TestIssuer, allowRemote })
    }
    try {
      await app.listen({ port, host })
    } catch (err) {
      await app.close()
      // Another process took the port between probing and listening: try another.
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && options.port === undefined && attempt < 5) continue
      throw err
    }
    const { ctx } = app
    await ctx.metrics.load()

    issuer = {
      url,
      tokenEndpoint: `${url}/oauth/token`,
      jwksUri: `${url}/.well-known/jwks.json`,
      client: defaultClient,
      keyClient,
      platform,
      workload,
      app,
      clock,
      async mintAccessToken(mint = {}) {
        const issued = await ctx.signer.accessToken(
          {
            sub: mint.sub ?? 'test-user',
            clientId: mint.clientId ?? defaultClient.clientId,

            scope: list(mint.scope),
            audience: mint.audience === undefined ? [audience] : list(mint.audience),
            ...(mint.roles ? { roles: mint.roles } : {}),
            ...(mint.sid ? { sid: mint.sid } : {}),
            ...(mint.authTime === undefined ? {} : { authTime: mint.authTime }),
          },
          mint.expiresIn ?? config.accessTokenTtl,
        )
        return issued.token
      },
      async rotateKeys(alg) {
        const rotated = alg === undefined ? await keystore.rotateAll() : [await keystore.rotate(alg)]
        const wanted = alg ?? config.accessTokenSigningAlg
        return (rotated.find((key) => key.alg === wanted) as { kid: string }).kid
      },
      async endSessions(username) {
        const user = await store.findUserByUsername(username)
        if (!user) throw new Error(`no user "${username}"`)
        return ctx.revoker.endUserSessions(user.sub, 'admin')
      },
      async reset() {
        store.reset()
        ctx.clients.invalidate()
        ctx.assertions.federation.invalidate()
        clock.reset()
        await register()
      },
      async close() {
        await app.close()
        keystore.close()
        await store.close()
        await platform?.close()
      },
    }
    return issuer
  }
}
