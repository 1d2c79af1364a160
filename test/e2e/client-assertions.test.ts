// Clients without shared secrets against the real auth server process: unmodified oauth4webapi PrivateKeyJwt with
// ES256, RS256 and EdDSA keys, inline and at a jwks_uri where the key rotates; a fake Kubernetes service-account
// issuer and a SPIFFE issuer (real HTTP servers, discovery and JWKS), each accepted for its client and refused for
// another subject, audience, issuer or key; and no assertion in the server's log.

import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as oauth from 'oauth4webapi'
import t from 'tap'
import { ASSERTION_JWKS_COOLDOWN_MS } from '../../packages/auth-server/src/clients/assertion-keys.js'
import { createTestPlatform } from '../../packages/auth-server/src/testing/platform.js'
import { freePort } from '../support/ports.js'
import { startAuthServer } from '../support/services.js'

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const JWT_SPIFFE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'
const AUDIENCE = 'https://notes.example'
const insecure = { [oauth.allowInsecureRequests]: true }

type Alg = 'ES256' | 'RS256' | 'EdDSA'
const params: Record<Alg, RsaHashedKeyGenParams | EcKeyGenParams | Algorithm> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' },
}
/** A client key as an application holds it: a non-extractable WebCrypto private key, its public JWK registered. */
async function clientKey(alg: Alg, kid: string) {
  const pair = (await crypto.subtle.generateKey(params[alg], false, ['sign', 'verify'])) as CryptoKeyPair
  const jwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid }
  delete (jwk as { key_ops?: unknown }).key_ops
  delete (jwk as { ext?: unknown }).ext
  return { key: pair.privateKey, kid, jwk }
}

const keys = {
  ES256: await clientKey('ES256', 'es-1'),
  RS256: await clientKey('RS256', 'rs-1'),
  EdDSA: await clientKey('EdDSA', 'ed-1'),
}
const rotating = [await clientKey('ES256', 'rot-1')]
let jwksRequests = 0
const jwksServer = createServer((_req, res) => {
  jwksRequests++
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: rotating.map((k) => k.jwk) }))
})
await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
t.teardown(() => jwksServer.close())

const cluster = await createTestPlatform({ alg: 'RS256' })
const spire = await createTestPlatform({ alg: 'ES256', path: '/spire', discovery: false })
t.teardown(() => Promise.all([cluster.close(), spire.close()]))
const ORDERS_SA = 'system:serviceaccount:shop:orders'
const BILLING_ID = 'spiffe://shop.example/ns/shop/sa/billing'

const port = await freePort()
const issuer = `http://127.0.0.1:${port}`
const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-assertions-'))
const file = path.join(dir, 'bootstrap.json')
const service = (id: string, over: object) => ({
  client_id: id,
  grant_types: ['client_credentials'],
  scopes: ['notes:read'],
  audiences: [AUDIENCE],
  ...over,
})
await writeFile(
  file,
  JSON.stringify({
    trusted_issuers: [{ issuer: cluster.issuer }, { issuer: spire.issuer, jwks_uri: spire.jwksUri }],
    clients: [
      ...Object.entries(keys).map(([alg, k]) => service(`svc-${alg.toLowerCase()}`, { jwks: { keys: [k.jwk] } })),
      service('svc-uri', {
        jwks_uri: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`,
        token_endpoint_auth_method: 'private_key_jwt',
      }),
      service('orders', { federated_identities: [{ issuer: cluster.issuer, subject: ORDERS_SA }] }),
      service('billing', { federated_identities: [{ issuer: spire.issuer, subject: BILLING_ID }] }),
    ],
  }),
)
const auth = await startAuthServer({
  port,
  env: { ISSUER: issuer, BOOTSTRAP_FILE: file, KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'info' },
})
t.teardown(() => auth.stop())
const as = await oauth.processDiscoveryResponse(
  new URL(issuer),
  await oauth.discoveryRequest(new URL(issuer), insecure),
)
const sent: string[] = []

const form = (fields: Record<string, string>) =>
  fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...fields }),
  })

t.test(
  'oauth4webapi PrivateKeyJwt: client_credentials, introspection and revocation with ES256, RS256, EdDSA',
  async (t) => {
    for (const [alg, k] of Object.entries(keys)) {
      const client: oauth.Client = { client_id: `svc-${alg.toLowerCase()}` }
      const auth = oauth.PrivateKeyJwt(
        { key: k.key, kid: k.kid },
        { [oauth.modifyAssertion]: (_h, p) => void sent.push(String(p.jti)) },
      )
      const response = await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'notes:read' }, insecure)
      const result = await oauth.processClientCredentialsResponse(as, client, response)
      t.equal(result.scope, 'notes:read', `${alg}: a token`)
      const introspection = await oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, auth, result.access_token, insecure),
      )
      t.equal(introspection.active, true, `${alg}: introspection`)
      t.equal(introspection.client_id, client.client_id)
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, client, auth, result.access_token, insecure),
      )
      const after = await oauth.processIntrospectionResponse(
        as,
        client,
        await oauth.introspectionRequest(as, client, auth, result.access_token, insecure),
      )
      t.equal(after.active, false, `${alg}: revoked`)
    }
  },
)

t.test('a client at a jwks_uri rotates its key there; the server follows on first use', async (t) => {
  const client: oauth.Client = { client_id: 'svc-uri' }
  const grant = async (k: { key: CryptoKey; kid: string }) =>
    oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt({ key: k.key, kid: k.kid }), {}, insecure)
  t.equal((await grant(rotating[0] as (typeof rotating)[0])).status, 200)
  const next = await clientKey('ES256', 'rot-2')
  rotating.push(next)
  const before = jwksRequests
  // An unknown kid refetches the JWKS at most once per cooldown: within a few cooldowns the new key works.
  const deadline = Date.now() + ASSERTION_JWKS_COOLDOWN_MS * 3
  let status = 0
  while (status !== 200 && Date.now() < deadline) {
    status = (await grant(next)).status
    if (status !== 200) await new Promise((r) => setTimeout(r, 250))
  }
  t.equal(status, 200, 'the new key authenticates')
  t.ok(jwksRequests - before <= 2, `the JWKS was fetched ${jwksRequests - before} more time(s), not per request`)
  rotating.shift()
})

t.test('a Kubernetes projected service-account token authenticates its client, nothing else', async (t) => {
  const token = cluster.serviceAccountToken({ namespace: 'shop', serviceAccount: 'orders', audience: issuer })
  const ok = await form({ client_assertion_type: JWT_BEARER, client_assertion: token })
  t.equal(ok.status, 200)
  const body = (await ok.json()) as { access_token: string }
  t.equal(JSON.parse(Buffer.from(body.access_token.split('.')[1] as string, 'base64url').toString()).sub, 'orders')
  const again = await form({ client_assertion_type: JWT_BEARER, client_assertion: token, client_id: 'orders' })
  t.equal(again.status, 200, 'the same token again: platforms reuse theirs')

  const rogue = await createTestPlatform({ alg: 'RS256' })
  t.teardown(() => rogue.close())
  const rogueToken = rogue.serviceAccountToken({ namespace: 'shop', serviceAccount: 'orders', audience: issuer })
  const [h, , s] = rogueToken.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(rogueToken.split('.')[1] as string, 'base64url').toString())
  const underClusterName = `${h}.${Buffer.from(JSON.stringify({ ...claims, iss: cluster.issuer })).toString('base64url')}.${s}`
  const refusals: [string, string, RegExp][] = [
    [
      'another subject',
      cluster.serviceAccountToken({ namespace: 'shop', serviceAccount: 'cart', audience: issuer }),
      /no client is the platform identity/,
    ],
    [
      'another audience',
      cluster.serviceAccountToken({
        namespace: 'shop',
        serviceAccount: 'orders',
        audience: 'https://kubernetes.default.svc',
      }),
      /another audience/,
    ],
    ['another issuer', rogueToken, /not a trusted issuer/],
    ['another key', underClusterName, /unknown key|signature is invalid/],
  ]
  for (const [what, assertion, description] of refusals) {
    const res = await form({ client_assertion_type: JWT_BEARER, client_assertion: assertion })
    t.equal(res.status, 401, what)
    t.match(((await res.json()) as { error_description: string }).error_description, description, what)
  }
})

t.test('a SPIFFE JWT-SVID (jwt-spiffe) authenticates its client, nothing else', async (t) => {
  const svid = spire.svid({ spiffeId: BILLING_ID, audience: [issuer] })
  const ok = await form({ client_assertion_type: JWT_SPIFFE, client_assertion: svid })
  t.equal(ok.status, 200)
  const rogue = await createTestPlatform({ alg: 'ES256', path: '/spire', discovery: false })
  t.teardown(() => rogue.close())
  const refusals: [string, string][] = [
    ['another SPIFFE ID', spire.svid({ spiffeId: 'spiffe://shop.example/ns/shop/sa/cart', audience: [issuer] })],
    ['another audience', spire.svid({ spiffeId: BILLING_ID, audience: ['spiffe://shop.example/other'] })],
    ['another trust domain', rogue.svid({ spiffeId: BILLING_ID, audience: [issuer] })],
  ]
  for (const [what, assertion] of refusals) {
    const res = await form({ client_assertion_type: JWT_SPIFFE, client_assertion: assertion })
    t.equal(res.status, 401, what)
    t.equal(((await res.json()) as { error: string }).error, 'invalid_client')
  }
  await spire.rotateKey()
  const rotated = spire.svid({ spiffeId: BILLING_ID, audience: [issuer] })
  const deadline = Date.now() + ASSERTION_JWKS_COOLDOWN_MS * 3
  let status = 0
  while (status !== 200 && Date.now() < deadline) {
    status = (await form({ client_assertion_type: JWT_SPIFFE, client_assertion: rotated })).status
    if (status !== 200) await new Promise((r) => setTimeout(r, 250))
  }
  t.equal(status, 200, 'a key the trust domain rotated in is picked up')
})

t.test('no assertion, platform token or jti in the log; the causes are there', async (t) => {
  const output = auth.output()
  t.notMatch(output, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/, 'no JWT')
  for (const jti of sent) t.notOk(output.includes(jti), 'no assertion jti')
  t.match(output, /platform token of .* for system:serviceaccount:shop:cart: no client is the platform identity/)
})
