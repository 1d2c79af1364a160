// A fake workload-identity platform for tests: a real HTTP server on loopback with OIDC discovery and a JWKS, minting
// tokens shaped like a Kubernetes projected service-account token, a SPIFFE JWT-SVID or any platform's (a CI job's).
import { generateKeyPair as generateKeyPairCb, type KeyObject, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import { jwkThumbprint, publicJwkOf, type SigningAlgorithm, signSync } from '@tollgate/shared'

const generateKeyPair = promisify(generateKeyPairCb)

export interface TestPlatformOptions {
  /** The signing algorithm of its tokens. Default ES256 (Kubernetes clusters sign RS256 or ES256). */
  readonly alg?: SigningAlgorithm
  /** Serve `/.well-known/openid-configuration` (as Kubernetes and SPIRE's OIDC provider do). Default true. */
  readonly discovery?: boolean
  /** The issuer's path under the server (`/` by default): `https://…/path` issuers exist too. */
  readonly path?: string
  readonly port?: number
  /** The clock its `iat`/`exp` follow. Default real time. */
  readonly now?: () => number
}

export interface PlatformTokenOptions {
  readonly subject: string
  /** `aud`: a string or several. */
  readonly audience: string | readonly string[]
  /** Seconds; 0 or less gives an already expired token. Default 3600. */
  readonly expiresIn?: number
  /** More claims, or claims overridden. */
  readonly claims?: Record<string, unknown>
}

export interface TestPlatform {
  /** The issuer identifier (`iss` of its tokens). */
  readonly issuer: string
  readonly jwksUri: string
  /** A token for `subject`, signed with the current key. */
  token(options: PlatformTokenOptions): string
  /** A Kubernetes projected service-account token (`sub` `system:serviceaccount:<namespace>:<name>`). */
  serviceAccountToken(options: {
    namespace: string
    serviceAccount: string
    audience: string | readonly string[]
    expiresIn?: number
  }): string
  /** A SPIFFE JWT-SVID (`sub` the SPIFFE ID, `typ` JWT). */
  svid(options: { spiffeId: string; audience: string | readonly string[]; expiresIn?: number }): string
  /** A new signing key, published beside the old one (which stays published); returns its `kid`. */
  rotateKey(): Promise<string>
  /** JWKS requests served so far. */
  readonly jwksRequests: number
  close(): Promise<void>
}

interface PlatformKey {
  readonly kid: string
  readonly privateKey: KeyObject
  readonly jwk: Record<string, unknown>
}

async function newKey(alg: SigningAlgorithm): Promise<PlatformKey> {
  const { privateKey } =
    alg === 'RS256'
      ? await generateKeyPair('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? await generateKeyPair('ec', { namedCurve: 'P-256' })
        : await generateKeyPair('ed25519')
  const members = publicJwkOf(privateKey)
  const kid = jwkThumbprint(members)
  return { kid, privateKey, jwk: { ...members, kid, alg, use: 'sig' } }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/**
 * Starts a fake platform issuer on 127.0.0.1 (http is accepted for loopback issuers).
 *
 * @example
 * const cluster = await createTestPlatform()
 * const token = cluster.serviceAccountToken({ namespace: 'shop', serviceAccount: 'orders', audience: issuer.url })
 */
export async function createTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const alg = options.alg ?? 'ES256'
  const now = options.now ?? Date.now
  const path = `/${(options.path ?? '').replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '')
  const keys: PlatformKey[] = [await newKey(alg)]
  let jwksRequests = 0
  let issuer = ''
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0]
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (url === `${path}/.well-known/openid-configuration` && options.discovery !== false) {
      return json({
        issuer,
        jwks_uri: `${issuer}/openid/v1/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [alg],
      })
    }
    if (url === `${path}/openid/v1/jwks`) {
      jwksRequests++
      return json({ keys: keys.map((k) => k.jwk) })
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`

  const sign = (header: Record<string, unknown>, claims: Record<string, unknown>): string => {
    const key = keys[keys.length - 1] as PlatformKey
    const input = `${b64({ alg, kid: key.kid, ...header })}.${b64(claims)}`
    return `${input}.${signSync(alg, key.privateKey, Buffer.from(input)).toString('base64url')}`
  }
  const token = (o: PlatformTokenOptions, header: Record<string, unknown> = {}) => {
    const iat = Math.floor(now() / 1000)
    return sign(header, {
      iss: issuer,
      sub: o.subject,
      aud: typeof o.audience === 'string' ? o.audience : [...o.audience],
      iat,
      nbf: iat,
      exp: iat + (o.expiresIn ?? 3600),
      jti: randomBytes(12).toString('base64url'),
      ...o.claims,
    })
  }

  return {
    issuer,
    jwksUri: `${issuer}/openid/v1/jwks`,
    token: (o) => token(o),
    serviceAccountToken: ({ namespace, serviceAccount, audience, expiresIn }) =>
      token({
        subject: `system:serviceaccount:${namespace}:${serviceAccount}`,
        audience,
        ...(expiresIn === undefined ? {} : { expiresIn }),
        // What a projected token carries about its pod (kubernetes.io claims), as a real one does.
        claims: {
          'kubernetes.io': {
            namespace,
            serviceaccount: { name: serviceAccount, uid: randomBytes(8).toString('hex') },
            pod: { name: `${serviceAccount}-7d4b9c`, uid: randomBytes(8).toString('hex') },
          },
        },
      }),
    svid: ({ spiffeId, audience, expiresIn }) =>
      token({ subject: spiffeId, audience, ...(expiresIn === undefined ? {} : { expiresIn }) }, { typ: 'JWT' }),
    async rotateKey() {
      const key = await newKey(alg)
      keys.push(key)
      return key.kid
    },
    get jwksRequests() {
      return jwksRequests
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
