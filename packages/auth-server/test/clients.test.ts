// Client definitions (bootstrap file, CLI): the token_exchange field is checked field by field, and every mistake is
// one line naming the field.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { type ClientInput, clientRecord } from '../src/clients/client.js'
import { SecretHasher } from '../src/clients/secrets.js'

const hasher = new SecretHasher(randomBytes(32))
const TX = 'urn:ietf:params:oauth:grant-type:token-exchange'
const base = {
  client_id: 'orders-svc',
  client_secret: 'orders-secret-0123456789abcdef0123456789abcdef',
  grant_types: ['client_credentials', TX],
  audiences: ['https://orders.internal'],
  token_exchange: { subject_audiences: ['https://orders.internal'], audiences: ['https://stock.internal'] },
}
const make = (over: Record<string, unknown>) => clientRecord({ ...base, ...over } as unknown as ClientInput, hasher, 0)

t.test('a valid token_exchange becomes the record’s policy', async (t) => {
  t.same(make({}).tokenExchange, {
    subjectAudiences: ['https://orders.internal'],
    audiences: ['https://stock.internal'],
  })
  t.notOk(make({ grant_types: ['client_credentials'], token_exchange: undefined }).tokenExchange)
})

t.test('every mistake is refused with a line naming the field', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'the grant without the field',
      { token_exchange: undefined },
      /client orders-svc: token_exchange is required with/,
    ],
    [
      'the field without the grant',
      { grant_types: ['client_credentials'] },
      /token_exchange needs the urn:ietf:params:oauth:grant-type:token-exchange grant/,
    ],
    ['not an object', { token_exchange: ['https://x'] }, /token_exchange must be an object/],
    [
      'an unknown member',
      { token_exchange: { ...base.token_exchange, audience: ['https://x'] } },
      /token_exchange: unknown field "audience"/,
    ],
    [
      'no subject audiences',
      { token_exchange: { audiences: ['https://x'] } },
      /token_exchange\.subject_audiences must list at least one/,
    ],
    [
      'empty audiences',
      { token_exchange: { ...base.token_exchange, audiences: [] } },
      /token_exchange\.audiences must list at least one/,
    ],
    [
      'a relative URI',
      { token_exchange: { ...base.token_exchange, audiences: ['stock'] } },
      /token_exchange\.audiences: "stock" is not an absolute URI/,
    ],
    [
      'not strings',
      { token_exchange: { ...base.token_exchange, subject_audiences: [1] } },
      /token_exchange\.subject_audiences must be an array of non-empty strings/,
    ],
    [
      'a public client',
      { public: true, client_secret: undefined, grant_types: [TX] },
      /a public client cannot exchange tokens/,
    ],
  ]
  for (const [what, over, message] of cases)
    t.throws(() => make(over), { name: 'ClientValidationError', message }, what)
})

t.test('id_token_signed_response_alg: one of SIGNING_ALGS, kept on the record', async (t) => {
  const signingAlgs = ['RS256', 'ES256'] as const
  const alg = (value: unknown) =>
    clientRecord({ ...base, id_token_signed_response_alg: value } as unknown as ClientInput, hasher, 0, {
      signingAlgs,
    })
  t.equal(alg('ES256').idTokenSignedResponseAlg, 'ES256')
  t.equal(make({}).idTokenSignedResponseAlg, undefined, 'RS256 by default')
  t.throws(() => alg('EdDSA'), {
    message: 'client orders-svc: id_token_signed_response_alg EdDSA is not in SIGNING_ALGS (RS256,ES256)',
  })
  t.throws(() => alg('HS256'), /id_token_signed_response_alg must be one of RS256, ES256, EdDSA/)
  t.throws(() => alg('none'), /id_token_signed_response_alg must be one of/)
})

t.test('clients without secrets: keys (jwks or jwks_uri) or platform identities, field by field', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto')
  const jwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid: 'k1' }
  const keyed = {
    client_id: 'orders-svc',
    grant_types: ['client_credentials'],
    audiences: ['https://orders.internal'],
  }
  const record = (over: Record<string, unknown>, trusted?: string[]) =>
    clientRecord({ ...keyed, ...over } as unknown as ClientInput, hasher, 0, {
      ...(trusted ? { trustedIssuers: new Set(trusted) } : {}),
    })
  const withKeys = record({ jwks: { keys: [{ ...jwk, use: 'sig', extra: 'dropped' }] } })
  t.equal(withKeys.secretHash, undefined, 'no secret')
  t.same(withKeys.jwks, { keys: [{ ...jwk, use: 'sig' }] }, 'public members only')
  t.equal(record({ jwks_uri: 'https://orders.internal/jwks' }).jwksUri, 'https://orders.internal/jwks')
  t.equal(record({ jwks_uri: 'http://127.0.0.1:9999/jwks' }).jwksUri, 'http://127.0.0.1:9999/jwks', 'loopback http')
  const k8s = { issuer: 'https://k8s.example', subject: 'system:serviceaccount:shop:orders' }
  t.same(record({ federated_identities: [k8s] }, [k8s.issuer]).federatedIdentities, [k8s])
  t.equal(
    record({ client_secret: base.client_secret, jwks: { keys: [jwk] } }).secretHash?.startsWith('hmac'),
    true,
    'a secret and keys together (moving from one to the other)',
  )
  t.equal(
    record({ jwks: { keys: [jwk] }, token_endpoint_auth_method: 'private_key_jwt' }).tokenEndpointAuthMethod,
    'private_key_jwt',
  )

  const cases: [string, Record<string, unknown>, RegExp, string[]?][] = [
    ['no credential at all', {}, /needs a client_secret, jwks, jwks_uri or federated_identities/],
    ['jwks not a set', { jwks: [jwk] }, /jwks must be a JWK Set/],
    ['an empty set', { jwks: { keys: [] } }, /jwks must hold 1 to 10 keys/],
    [
      'a private key',
      { jwks: { keys: [generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })] } },
      /jwks\.keys\[0\] holds private key material/,
    ],
    ['an HMAC key', { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, /jwks\.keys\[0\] holds private key material/],
    ['an unusable key', { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }] } }, /is not a usable/],
    ['a kid twice', { jwks: { keys: [jwk, jwk] } }, /each kid once/],
    ['jwks and jwks_uri', { jwks: { keys: [jwk] }, jwks_uri: 'https://x/jwks' }, /not both/],
    ['plain http', { jwks_uri: 'http://orders.internal/jwks' }, /jwks_uri must use https \(http only on loopback/],
    ['not a URL', { jwks_uri: 'jwks.json' }, /jwks_uri is not an absolute URL/],
    ['identities not an array', { federated_identities: k8s }, /federated_identities must be an array/],
    [
      'an unknown identity field',
      { federated_identities: [{ ...k8s, audience: 'x' }] },
      /federated_identities\[0\]: unknown field "audience"/,
    ],
    ['no subject', { federated_identities: [{ issuer: k8s.issuer }] }, /federated_identities\[0\]\.subject must be/],
    [
      'an untrusted issuer',
      { federated_identities: [k8s] },
      /federated_identities\[0\]\.issuer https:\/\/k8s\.example is not in trusted_issuers/,
      ['https://other.example'],
    ],
    ['an identity twice', { federated_identities: [k8s, k8s] }, /federated_identities\[1\] is listed twice/],
    ['an unknown method', { jwks: { keys: [jwk] }, token_endpoint_auth_method: 'tls_client_auth' }, /must be one of/],
    [
      'private_key_jwt without keys',
      { client_secret: base.client_secret, token_endpoint_auth_method: 'private_key_jwt' },
      /private_key_jwt needs jwks, jwks_uri or federated_identities/,
    ],
    [
      'a secret method without a secret',
      { jwks: { keys: [jwk] }, token_endpoint_auth_method: 'client_secret_basic' },
      /client_secret_basic needs a client_secret/,
    ],
    [
      'a public client with keys',
      { public: true, grant_types: ['password'], jwks: { keys: [jwk] } },
      /a public client has no keys or federated identities/,
    ],
  ]
  for (const [what, over, message, trusted] of cases) {
    t.throws(() => record(over, trusted), { name: 'ClientValidationError', message }, what)
  }
})
