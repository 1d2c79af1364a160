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
