// The client side of client assertions (RFC 7523 §2.2): a fresh `private_key_jwt` assertion signed with the
// client's own key for every token request, or the platform token a workload's file holds, read again when it changes.
import { createPrivateKey, type JsonWebKey, KeyObject, randomBytes, type webcrypto } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { TokenClientError } from '../errors.js'
import { algorithmOfKey, type JwsAlgorithm, keyFits, signSync } from './jws.js'

/** A private key as a caller may hold it. */
export type AssertionKeyInput = KeyObject | webcrypto.CryptoKey | (JsonWebKey & { kid?: string })

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const JWT_SPIFFE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'
/** Long enough for a slow network, short enough that a copied assertion is soon worthless (the server allows 5 min). */
const LIFETIME_SEC = 60

export interface ClientAssertionOptions {
  readonly clientId: string
  readonly privateKey?: AssertionKeyInput
  readonly keyId?: string
  readonly alg?: 'RS256' | 'PS256' | 'ES256' | 'EdDSA'
  readonly file?: string
  readonly fileType?: 'jwt-bearer' | 'jwt-spiffe'
  readonly now: () => number
}

interface Signing {
  readonly key: KeyObject
  readonly kid: string | undefined
  readonly alg: JwsAlgorithm
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function keyObjectOf(input: AssertionKeyInput): { key: KeyObject; kid: string | undefined } {
  if (input instanceof KeyObject) return { key: input, kid: undefined }
  if (typeof (input as webcrypto.CryptoKey).algorithm === 'object' && 'type' in input) {
    return { key: KeyObject.from(input as webcrypto.CryptoKey), kid: undefined }
  }
  const jwk = input as JsonWebKey & { kid?: string }
  try {
    return { key: createPrivateKey({ key: jwk, format: 'jwk' }), kid: jwk.kid }
  } catch (err) {
    throw new TypeError(`privateKey is not a usable private JWK (${(err as Error).message})`)
  }
}

/**
 * Makes the client assertion of each token request.
 *
 * @example
 * const assertions = new ClientAssertions({ clientId: 'orders-svc', privateKey, keyId: 'k1', now: Date.now })
 * const { assertion, type } = await assertions.next('https://auth.example')
 */
export class ClientAssertions {
  readonly #options: ClientAssertionOptions
  readonly #signing: Signing | undefined
  #file: { token: string; stamp: string } | undefined

  constructor(options: ClientAssertionOptions) {
    this.#options = options
    if (options.privateKey !== undefined) {
      const { key, kid } = keyObjectOf(options.privateKey)
      if (key.type !== 'private') throw new TypeError('privateKey must be a private key')
      const alg = options.alg ?? algorithmOfKey(key)
      if (alg === undefined || !keyFits(alg, key)) {
        throw new TypeError('privateKey must be an RSA (2048 bits or more), P-256 or Ed25519 key fitting its algorithm')
      }
      this.#signing = { key, kid: options.keyId ?? kid, alg }
    } else if (options.file === undefined) {
      throw new TypeError('a privateKey or a file is needed')
    }
  }

  /** The assertion for a request to the server whose issuer identifier is `audience`. */
  async next(audience: string): Promise<{ assertion: string; type: string }> {
    if (this.#signing) return { assertion: this.#sign(this.#signing, audience), type: JWT_BEARER }
    return { assertion: await this.#read(), type: this.#options.fileType === 'jwt-spiffe' ? JWT_SPIFFE : JWT_BEARER }
  }

  #sign({ key, kid, alg }: Signing, audience: string): string {
    const iat = Math.floor(this.#options.now() / 1000)
    const { clientId } = this.#options
    const input = `${b64({ alg, ...(kid === undefined ? {} : { kid }) })}.${b64({
      iss: clientId,
      sub: clientId,
      aud: audience,
      iat,
      exp: iat + LIFETIME_SEC,
      jti: randomBytes(16).toString('base64url'),
    })}`
    return `${input}.${signSync(alg, key, Buffer.from(input)).toString('base64url')}`
  }

  /** The token file, read again only when it changed (the platform rewrites or swaps it). */
  async #read(): Promise<string> {
    const file = this.#options.file as string
    try {
      const info = await stat(file)
      const stamp = `${info.ino}:${info.size}:${info.mtimeMs}`
      if (this.#file?.stamp === stamp) return this.#file.token
      const token = (await readFile(file, 'utf8')).trim()
      if (token === '') throw new Error('the file is empty')
      this.#file = { token, stamp }
      return token
    } catch (err) {
      throw new TokenClientError(`cannot read the client assertion file ${file}: ${(err as Error).message}`, {
        cause: err,
      })
    }
  }
}
