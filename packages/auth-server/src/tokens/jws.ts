// RS256 compact JWS with node:crypto: the signature runs on the libuv pool (both cores work), and the header segment
// is encoded once per key instead of on every token.
import { type KeyObject, sign } from 'node:crypto'

const headers = new Map<string, string>()

function headerSegment(typ: string, kid: string): string {
  const id = `${typ}\u0000${kid}`
  let segment = headers.get(id)
  if (segment === undefined) {
    segment = Buffer.from(JSON.stringify({ alg: 'RS256', typ, kid })).toString('base64url')
    headers.set(id, segment)
  }
  return segment
}

/**
 * Signs claims as an RS256 JWT (`{ alg: RS256, typ, kid }`). Equivalent to jose's
 * SignJWT, without WebCrypto's per-call algorithm normalisation on the event loop.
 *
 * @example
 * const jwt = await signJwt({ sub: 'x' }, { typ: 'at+jwt', kid }, key)
 */
export function signJwt(claims: object, header: { typ: string; kid: string }, key: KeyObject): Promise<string> {
  const input = `${headerSegment(header.typ, header.kid)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(input), key, (err, signature) => {
      if (err) reject(err)
      else resolve(`${input}.${signature.toString('base64url')}`)
    })
  })
}
