// private_key_jwt benchmarks: client_credentials where every request carries a fresh ES256 client assertion, as
// TokenClient and oauth4webapi send them. Assertions are signed ahead of each run (node:crypto), so the load
// generator measures the server, not its own signing.
import { randomBytes, sign } from 'node:crypto'
import { form, KEYED } from '../fixtures.mjs'
import { cannon } from '../lib.mjs'

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const header = b64({ alg: 'ES256', kid: KEYED.kid })

/** One assertion for `issuer`: iss = sub = the client, a fresh jti, a minute to live. */
export function assertion(issuer) {
  const iat = Math.floor(Date.now() / 1000)
  const input = `${header}.${b64({
    iss: KEYED.id,
    sub: KEYED.id,
    aud: issuer,
    iat,
    exp: iat + 60,
    jti: randomBytes(12).toString('base64url'),
  })}`
  const signature = sign('sha256', Buffer.from(input), { key: KEYED.privateKey, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

/** client_credentials with private_key_jwt: `count(duration)` assertions signed first, one per request. */
export function withAssertions({ issuer, count }) {
  return async (duration) => {
    const bodies = Array.from({ length: count(duration) }, () =>
      form({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion(issuer),
      }),
    )
    let next = 0
    return cannon({
      url: `${issuer}/oauth/token`,
      duration,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
        },
      ],
    })
  }
}
