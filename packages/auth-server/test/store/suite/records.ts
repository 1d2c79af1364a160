// The store contract: users and clients.
import type { Test } from 'tap'
import { UsernameTakenError } from '../../../src/store/types.js'
import type { SuiteStore } from '../suite.js'
import { client, user } from './fixtures.js'

export function recordSuite(t: Test, s: SuiteStore): void {
  t.test('ping resolves when the backend is up', async (t) => {
    await t.resolves(s.store.ping())
  })

  t.test('a user round-trips with every field', async (t) => {
    await s.store.putUser(user())
    t.same(await s.store.getUser('sub-alice'), user())
    const minimal = user({ sub: 'sub-min', username: 'min', roles: [] })
    delete (minimal as { email?: string }).email
    delete (minimal as { emailVerified?: boolean }).emailVerified
    delete (minimal as { name?: string }).name
    await s.store.putUser(minimal)
    t.same(await s.store.getUser('sub-min'), minimal)
  })

  t.test('users are found by username case-insensitively', async (t) => {
    await s.store.putUser(user())
    t.equal((await s.store.findUserByUsername('alice'))?.sub, 'sub-alice')
    t.equal((await s.store.findUserByUsername('ALICE'))?.sub, 'sub-alice')
    t.equal(await s.store.findUserByUsername('nobody'), undefined)
    t.equal(await s.store.getUser('nobody'), undefined)
  })

  t.test('a username belongs to one user', async (t) => {
    await s.store.putUser(user())
    await t.rejects(s.store.putUser(user({ sub: 'sub-other', username: 'alice' })), UsernameTakenError)
    t.equal((await s.store.findUserByUsername('alice'))?.sub, 'sub-alice')
  })

  t.test('renaming a user frees the old username', async (t) => {
    await s.store.putUser(user())
    await s.store.putUser(user({ username: 'alice2', updatedAt: 2 }))
    t.equal(await s.store.findUserByUsername('alice'), undefined)
    t.equal((await s.store.findUserByUsername('alice2'))?.sub, 'sub-alice')
    await s.store.putUser(user({ sub: 'sub-new', username: 'alice' }))
    t.equal((await s.store.findUserByUsername('alice'))?.sub, 'sub-new')
  })

  t.test('updating a user replaces its fields', async (t) => {
    await s.store.putUser(user())
    const updated = user({ disabled: true, roles: [], updatedAt: 5 })
    delete (updated as { email?: string }).email
    await s.store.putUser(updated)
    t.same(await s.store.getUser('sub-alice'), updated)
  })

  t.test('users are listed by username', async (t) => {
    await s.store.putUser(user({ sub: 's2', username: 'zed' }))
    await s.store.putUser(user())
    t.same(
      (await s.store.listUsers()).map((u) => u.username),
      ['Alice', 'zed'],
    )
  })

  t.test('a stored record cannot be mutated through a returned copy', async (t) => {
    await s.store.putUser(user())
    const copy = (await s.store.getUser('sub-alice')) as unknown as { roles: string[] }
    copy.roles.push('root')
    t.same((await s.store.getUser('sub-alice'))?.roles, ['admin'])
  })

  t.test('clients round-trip, list and remove', async (t) => {
    const pub = client({
      clientId: 'web',
      public: true,
      redirectUris: ['https://app/cb'],
      allowedOrigins: ['https://app'],
    })
    delete (pub as { secretHash?: string }).secretHash
    const keyed = client({
      clientId: 'keyed',
      idTokenSignedResponseAlg: 'ES256',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1' }] },
      federatedIdentities: [{ issuer: 'https://k8s.example', subject: 'system:serviceaccount:shop:orders' }],
    })
    delete (keyed as { secretHash?: string }).secretHash
    const byUri = client({ clientId: 'by-uri', jwksUri: 'https://orders.example/jwks' })
    await s.store.putClient(keyed)
    await s.store.putClient(byUri)
    t.same(await s.store.getClient('keyed'), keyed, 'keys, platform identities and algorithms round-trip')
    t.same(await s.store.getClient('by-uri'), byUri)
    await s.store.removeClient('keyed')
    await s.store.removeClient('by-uri')
    const exchanging = client({
      name: 'Orders',
      grantTypes: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      tokenExchange: { subjectAudiences: ['https://orders'], audiences: ['https://stock', 'https://billing'] },
    })
    await s.store.putClient(exchanging)
    await s.store.putClient(pub)
    t.same(await s.store.getClient('orders'), exchanging)
    t.same(await s.store.getClient('web'), pub)
    t.same(
      (await s.store.listClients()).map((c) => c.clientId),
      ['orders', 'web'],
    )
    t.equal(await s.store.removeClient('orders'), true)
    t.equal(await s.store.removeClient('orders'), false)
    t.equal(await s.store.getClient('orders'), undefined)
    t.same(
      (await s.store.listClients()).map((c) => c.clientId),
      ['web'],
    )
  })

  t.test('putting a client again replaces it', async (t) => {
    await s.store.putClient(client())
    await s.store.putClient(client({ scopes: ['a', 'b'] }))
    t.same((await s.store.getClient('orders'))?.scopes, ['a', 'b'])
  })

  // --- sessions: refresh-token families -------------------------------------------------------
}
