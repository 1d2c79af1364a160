// TokenClient without a secret, against the real server (createTestIssuer): a private key signing a fresh
// private_key_jwt assertion per request, and a platform token file read again whenever the platform rewrites it.
import { randomBytes, webcrypto } from 'node:crypto'
import { mkdtemp, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { TokenClient, TokenEndpointError } from '@tollgate/shared'
import t from 'tap'
import { createTestIssuer, createTestPlatform } from '../src/testing.js'

const platform = await createTestPlatform()
const SA = (name: string) => `system:serviceaccount:shop:${name}`
const issuer = await createTestIssuer({
  trustedIssuers: [{ issuer: platform.issuer }],
  clients: ['orders', 'billing'].map((name) => ({
    client_id: name,
    federated_identities: [{ issuer: platform.issuer, subject: SA(name) }],
    grant_types: ['client_credentials'],
    scopes: ['notes:read'],
    audiences: ['https://api.test'],
  })),
})
t.teardown(async () => {
  await issuer.close()
  await platform.close()
})
const subjectOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sub

t.test('a private key: KeyObject, WebCrypto key or JWK; a fresh assertion every request', async (t) => {
  const { clientId, privateKey, kid } = issuer.keyClient
  const webKey = await webcrypto.subtle.importKey(
    'jwk',
    privateKey.export({ format: 'jwk' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  )
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid }
  for (const [what, options] of [
    ['KeyObject', { privateKey, keyId: kid }],
    ['non-extractable WebCrypto key', { privateKey: webKey, keyId: kid }],
    ['private JWK with its kid', { privateKey: jwk }],
  ] as const) {
    const client = new TokenClient({ issuer: issuer.url, clientId, ...options })
    t.equal(subjectOf(await client.getToken()), clientId, what)
    client.invalidate()
    t.equal(subjectOf(await client.getToken()), clientId, `${what}: again (a new jti)`)
  }
  const wrong = new TokenClient({ issuer: issuer.url, clientId, privateKey: jwk, keyId: 'not-registered' })
  const err = await wrong.getToken().catch((e) => e)
  t.ok(err instanceof TokenEndpointError)
  t.equal(err.error, 'invalid_client')
  t.match(err.description, /unknown key/)
  t.throws(
    () => new TokenClient({ issuer: issuer.url, clientId, privateKey, clientSecret: 'x'.repeat(40) }),
    /one of clientSecret, privateKey or clientAssertionFile/,
  )
})

t.test('a platform token file is read again when the platform rewrites it', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-sa-'))
  const file = path.join(dir, 'token')
  // As the kubelet does: write beside, then swap in.
  const project = async (name: string, expiresIn = 3600) => {
    const next = path.join(dir, `.token-${randomBytes(4).toString('hex')}`)
    await writeFile(
      next,
      `${platform.serviceAccountToken({ namespace: 'shop', serviceAccount: name, audience: issuer.url, expiresIn })}\n`,
    )
    await rename(next, file)
  }
  await project('orders')
  const client = new TokenClient({ issuer: issuer.url, clientId: 'orders', clientAssertionFile: file })
  t.equal(subjectOf(await client.getToken()), 'orders')
  await project('orders', -10)
  client.invalidate()
  const expired = await client.getToken().catch((e) => e)
  t.match(expired, { error: 'invalid_client', description: /expired/ }, 'the rewritten (expired) token was read')
  await project('orders')
  t.equal(subjectOf(await client.getToken()), 'orders', 'and the renewed one')
  const other = new TokenClient({ issuer: issuer.url, clientId: 'billing', clientAssertionFile: file })
  const mismatch = await other.getToken().catch((e) => e)
  t.match(mismatch, { error: 'invalid_client', description: /client_id does not match the platform identity/ })
  const missing = new TokenClient({
    issuer: issuer.url,
    clientId: 'orders',
    clientAssertionFile: path.join(dir, 'nope'),
  })
  t.match(await missing.getToken().catch((e) => e), { message: /cannot read the client assertion file/ })
})
