// The client side of DPoP: a key of its own (non-extractable), proofs for each request, and the nonces servers
// hand out, remembered per origin.
import { randomBytes, type webcrypto } from 'node:crypto'
import type * as Jose from 'jose'
import { accessTokenHash, jwkThumbprint } from './proof.js'

export type DpopSigningAlgorithm = 'ES256' | 'EdDSA'

let jose: typeof Jose | undefined
const loadJose = async () => {
  jose ??= await import('jose')
  return jose
}

/**
 * Signs DPoP proofs with one key pair, generated on first use (its private half cannot be exported).
 *
 * @example
 * const signer = new DpopSigner()
 * headers.dpop = await signer.proof('POST', tokenEndpoint)
 */
export class DpopSigner {
  readonly #alg: DpopSigningAlgorithm
  #keys: Promise<{ privateKey: Jose.CryptoKey; jwk: Jose.JWK; jkt: string }> | undefined
  readonly #nonces = new Map<string, string>()
  readonly #now: () => number

  constructor(options: { alg?: DpopSigningAlgorithm; keyPair?: webcrypto.CryptoKeyPair; now?: () => number } = {}) {
    this.#alg = options.alg ?? 'ES256'
    this.#now = options.now ?? Date.now
    if (options.keyPair) this.#keys = this.#from(options.keyPair as never)
  }

  async #from(pair: { privateKey: Jose.CryptoKey; publicKey: Jose.CryptoKey }) {
    const { exportJWK } = await loadJose()
    const { kty, crv, x, y, e, n } = await exportJWK(pair.publicKey)
    const jwk = Object.fromEntries(Object.entries({ kty, crv, x, y, e, n }).filter(([, v]) => v !== undefined))
    return { privateKey: pair.privateKey, jwk, jkt: jwkThumbprint(jwk) }
  }

  #pair() {
    this.#keys ??= loadJose().then(async ({ generateKeyPair }) =>
      this.#from(await generateKeyPair(this.#alg, { extractable: false })),
    )
    return this.#keys
  }

  /** The RFC 7638 thumbprint of the key: what tokens are bound to (`cnf.jkt`, `dpop_jkt`). */
  async thumbprint(): Promise<string> {
    return (await this.#pair()).jkt
  }

  /** A fresh proof for one request; `accessToken` adds its `ath`; the origin's last nonce is included. */
  async proof(method: string, url: string | URL, accessToken?: string): Promise<string> {
    const { SignJWT } = await loadJose()
    const { privateKey, jwk } = await this.#pair()
    const target = new URL(url)
    const nonce = this.#nonces.get(target.origin)
    return new SignJWT({
      htm: method,
      htu: `${target.origin}${target.pathname}`,
      jti: randomBytes(16).toString('base64url'),
      iat: Math.floor(this.#now() / 1000),
      ...(accessToken === undefined ? {} : { ath: accessTokenHash(accessToken) }),
      ...(nonce === undefined ? {} : { nonce }),
    })
      .setProtectedHeader({ alg: this.#alg, typ: 'dpop+jwt', jwk })
      .sign(privateKey)
  }

  /** Remembers the `DPoP-Nonce` a response carried; true when it is new for that origin. */
  remember(url: string | URL, response: Response): boolean {
    const nonce = response.headers.get('dpop-nonce')
    if (!nonce) return false
    const origin = new URL(url).origin
    const fresh = this.#nonces.get(origin) !== nonce
    this.#nonces.set(origin, nonce)
    return fresh
  }
}
