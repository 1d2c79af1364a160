// A DPoP client key for tests: proofs signed synchronously with node:crypto (ES256), any htm/htu/ath/jti/iat.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { jwkThumbprint } from '@tollgate/shared'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

export interface ProofKey {
  /** The key's RFC 7638 thumbprint: the `cnf.jkt` of tokens bound to it. */
  readonly jkt: string
  proof(
    htm: string,
    htu: string,
    options?: { accessToken?: string; nonce?: string; jti?: string; iat?: number },
  ): string
}

/**
 * @example
 * const key = proofKey()
 * headers.dpop = key.proof('GET', 'http://127.0.0.1:8080/orders', { accessToken })
 */
export function proofKey(): ProofKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' })
  const jwk = { kty, crv, x, y }
  const header = b64({ alg: 'ES256', typ: 'dpop+jwt', jwk })
  return {
    jkt: jwkThumbprint(jwk),
    proof(htm, htu, options = {}) {
      const claims: Record<string, unknown> = {
        htm,
        htu,
        jti: options.jti ?? randomBytes(12).toString('base64url'),
        iat: options.iat ?? Math.floor(Date.now() / 1000),
      }
      if (options.accessToken) claims.ath = createHash('sha256').update(options.accessToken).digest('base64url')
      if (options.nonce) claims.nonce = options.nonce
      const input = `${header}.${b64(claims)}`
      const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      return `${input}.${signature.toString('base64url')}`
    },
  }
}
