// DPoP benchmarks: requests that each carry a fresh proof, as real clients send them. Proofs are signed ahead of
// each run (node:crypto), so the load generator measures the server, not its own signing.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { form, formHeaders, SERVICE } from '../fixtures.mjs'
import { cannon } from '../lib.mjs'

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** A client key for `alg` (ES256 or EdDSA) that signs proofs synchronously. */
export function proofKey(alg) {
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' })
  const jwk = Object.fromEntries(Object.entries({ kty, crv, x, y }).filter(([, v]) => v !== undefined))
  const header = b64({ alg, typ: 'dpop+jwt', jwk })
  return {
    proof(htm, htu, accessToken) {
      const claims = { htm, htu, jti: randomBytes(12).toString('base64url'), iat: Math.floor(Date.now() / 1000) }
      if (accessToken) claims.ath = createHash('sha256').update(accessToken).digest('base64url')
      const input = `${header}.${b64(claims)}`
      const signature =
        alg === 'EdDSA'
          ? sign(null, Buffer.from(input), privateKey)
          : sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      return `${input}.${signature.toString('base64url')}`
    },
  }
}

/** A DPoP-bound service token for the key. */
export async function boundToken(issuer, key) {
  const tokenUrl = `${issuer}/oauth/token`
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { ...formHeaders(SERVICE), dpop: key.proof('POST', tokenUrl) },
    body: form({ grant_type: 'client_credentials' }),
  })
  const body = await res.json()
  if (body.token_type !== 'DPoP') throw new Error(`no DPoP token: ${JSON.stringify(body)}`)
  return body.access_token
}

/**
 * A run in which every request carries its own proof: `count` proofs are signed first (enough for the run at the
 * expected rate), then handed out one per request.
 */
export function withProofs({ url, method = 'GET', headers = {}, body, make, count }) {
  return async (duration) => {
    const proofs = Array.from({ length: count(duration) }, make)
    let next = 0
    return cannon({
      url,
      duration,
      requests: [
        {
          method,
          headers,
          ...(body ? { body } : {}),
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, dpop: proofs[next++ % proofs.length] } }),
        },
      ],
    })
  }
}
