// The bootstrap document as a whole: its top-level fields and its resources, each mistake one line naming it.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { applyBootstrap, type BootstrapDocument } from '../src/bootstrap.js'
import { SecretHasher } from '../src/clients/secrets.js'
import { accessTokenAlgorithms } from '../src/resources.js'
import { MemoryStore } from '../src/store/memory/memory-store.js'

const hasher = new SecretHasher(randomBytes(32))
const apply = (doc: unknown, options = {}) =>
  applyBootstrap(doc as BootstrapDocument, new MemoryStore(), hasher, Date.now(), options)
const all = { signingAlgs: ['RS256', 'ES256', 'EdDSA'] as const, accessTokenSigningAlg: 'RS256' as const }

t.test('resources: each audience with its access-token algorithm, the default otherwise', async (t) => {
  const { resources } = await apply(
    {
      resources: [
        { audience: 'https://inventory.internal', access_token_signing_alg: 'ES256' },
        { audience: 'https://edge.internal', access_token_signing_alg: 'EdDSA' },
        { audience: 'https://legacy.internal' },
      ],
    },
    { ...all, accessTokenSigningAlg: 'ES256' },
  )
  t.same(resources, [
    { audience: 'https://inventory.internal', accessTokenSigningAlg: 'ES256' },
    { audience: 'https://edge.internal', accessTokenSigningAlg: 'EdDSA' },
    { audience: 'https://legacy.internal', accessTokenSigningAlg: 'ES256' },
  ])
  const algorithmFor = accessTokenAlgorithms(resources, 'RS256')
  t.equal(algorithmFor(['https://edge.internal']), 'EdDSA')
  t.equal(algorithmFor(['https://inventory.internal', 'https://edge.internal']), 'ES256', 'the first audience decides')
  t.equal(algorithmFor(['https://unlisted.internal']), 'RS256')
})

t.test('every mistake in resources or the document is refused by name, before anything is written', async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ['not an array', { resources: {} }, /"resources" must be an array/],
    ['not an object', { resources: ['https://x'] }, /resources\[0\] must be an object/],
    [
      'a relative audience',
      { resources: [{ audience: 'inventory' }] },
      /resources\[0\]: audience must be an absolute URI/,
    ],
    [
      'an unknown field',
      { resources: [{ audience: 'https://x', access_token_signing_algs: 'ES256' }] },
      /resource https:\/\/x: unknown field "access_token_signing_algs"/,
    ],
    [
      'twice',
      { resources: [{ audience: 'https://x' }, { audience: 'https://x' }] },
      /resource https:\/\/x: listed twice/,
    ],
    [
      'HS256',
      { resources: [{ audience: 'https://x', access_token_signing_alg: 'HS256' }] },
      /resource https:\/\/x: access_token_signing_alg must be one of RS256, ES256, EdDSA/,
    ],
    [
      'outside SIGNING_ALGS',
      { resources: [{ audience: 'https://x', access_token_signing_alg: 'EdDSA' }] },
      /resource https:\/\/x: access_token_signing_alg EdDSA is not in SIGNING_ALGS \(RS256\)/,
    ],
    [
      'a typo at the top',
      { client: [] },
      /unknown field "client" \(expected clients, users, resources, trusted_issuers\)/,
    ],
    ['an array', [], /must be a JSON object/],
  ]
  for (const [what, doc, message] of cases) await t.rejects(apply(doc), { message }, what)
  const store = new MemoryStore()
  const doc = {
    clients: [{ client_id: 'web', public: true, grant_types: ['password'], audiences: ['https://x'] }],
    resources: [{ audience: 'https://x', access_token_signing_alg: 'ES256' }],
  }
  await t.rejects(applyBootstrap(doc as BootstrapDocument, store, hasher, 0), /not in SIGNING_ALGS/)
  t.same(await store.listClients(), [], 'no client was written')
})

t.test(
  'trusted_issuers: issuer and optional jwks_uri, https but on loopback; federated clients name one',
  async (t) => {
    const k8s = 'https://kubernetes.default.svc.cluster.local'
    const { trustedIssuers } = await apply({
      trusted_issuers: [
        { issuer: k8s },
        { issuer: 'http://127.0.0.1:8080/spiffe', jwks_uri: 'http://127.0.0.1:8080/keys' },
      ],
      clients: [
        {
          client_id: 'orders',
          grant_types: ['client_credentials'],
          audiences: ['https://x'],
          federated_identities: [{ issuer: k8s, subject: 'system:serviceaccount:shop:orders' }],
        },
      ],
    })
    t.same(trustedIssuers, [
      { issuer: k8s },
      { issuer: 'http://127.0.0.1:8080/spiffe', jwksUri: 'http://127.0.0.1:8080/keys' },
    ])
    const identity = { issuer: k8s, subject: 'system:serviceaccount:shop:orders' }
    const federated = (id: string) => ({
      client_id: id,
      grant_types: ['client_credentials'],
      audiences: ['https://x'],
      federated_identities: [identity],
    })
    const cases: [string, unknown, RegExp][] = [
      ['not an array', { trusted_issuers: {} }, /"trusted_issuers" must be an array/],
      ['plain http', { trusted_issuers: [{ issuer: 'http://k8s.internal' }] }, /issuer must use https/],
      [
        'an unknown field',
        { trusted_issuers: [{ issuer: k8s, audience: 'x' }] },
        /trusted issuer https:\/\/kubernetes\.default\.svc\.cluster\.local: unknown field "audience"/,
      ],
      ['twice', { trusted_issuers: [{ issuer: k8s }, { issuer: k8s }] }, /listed twice/],
      ['a bad jwks_uri', { trusted_issuers: [{ issuer: k8s, jwks_uri: 'ftp://x' }] }, /jwks_uri must use https/],
      [
        'not trusted',
        { clients: [federated('a')] },
        /client a: federated_identities\[0\]\.issuer .* not in trusted_issuers/,
      ],
      [
        'one identity, two clients',
        { trusted_issuers: [{ issuer: k8s }], clients: [federated('a'), federated('b')] },
        /clients a and b both list system:serviceaccount:shop:orders of https:\/\/kubernetes/,
      ],
    ]
    for (const [what, doc, message] of cases) await t.rejects(apply(doc), { message }, what)
  },
)
