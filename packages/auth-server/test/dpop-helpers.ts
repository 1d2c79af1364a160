// DPoP proofs for tests: a client key, well-formed proofs, and deliberately broken ones.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'

export interface DpopKey {
  readonly jwk: JWK
  readonly jkt: string
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
}

export async function dpopKey(alg: 'ES256' | 'EdDSA' | 'RS256' = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const { kty, crv, x, y, n, e } = await exportJWK(publicKey)
  const jwk = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)) as JWK
  return {
    jwk,
    jkt: await calculateJwkThumbprint(jwk),
    sign: (claims, header = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg, typ: 'dpop+jwt', jwk, ...header }).sign(privateKey),
  }
}

export const ath = (token: string) => createHash('sha256').update(token).digest('base64url')

/** A valid proof for one request (override any claim). */
export function proof(
  key: DpopKey,
  htm: string,
  htu: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return key.sign(
    { htm, htu, jti: randomBytes(12).toString('base64url'), iat: Math.floor(Date.now() / 1000), ...claims },
    header,
  )
}

/** Signs any header and claims with an HMAC key (an attacker's `alg: HS256`). */
export function hmacProof(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${enc(header)}.${enc(claims)}`
  return `${input}.${createHmac('sha256', 'secret').update(input).digest('base64url')}`
}

/** A proof whose header carries an unsigned `alg: none`. */
export function unsignedProof(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${enc({ ...header, alg: 'none' })}.${enc(claims)}.`
}
