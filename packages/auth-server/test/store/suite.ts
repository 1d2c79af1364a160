// The store contract as tests: every implementation runs this same suite.
import type { Test } from 'tap'
import { StoreUnavailableError } from '../../src/errors.js'
import {
  type ClientRecord,
  type NewSession,
  type RotateRequest,
  type Store,
  UsernameTakenError,
  type UserRecord,
} from '../../src/store/types.js'

export type StoreFactory = () => Promise<{ store: Store; cleanup?: () => Promise<void> }>

const user = (overrides: Partial<UserRecord> = {}): UserRecord => ({
  sub: 'sub-alice',
  username: 'Alice',
  passwordHash: '$argon2id$fake',
  roles: ['admin'],
  disabled: false,
  createdAt: 1,
  updatedAt: 1,
  email: 'alice@example.com',
  emailVerified: true,
  name: 'Alice',
  ...overrides,
})

const client = (overrides: Partial<ClientRecord> = {}): ClientRecord => ({
  clientId: 'orders',
  secretHash: 'hmac-sha256$x',
  public: false,
  grantTypes: ['client_credentials'],
  scopes: ['inventory:read'],
  audiences: ['https://inventory.internal'],
  redirectUris: [],
  allowedOrigins: [],
  createdAt: 1,
  ...overrides,
})

export function storeSuite(t: Test, factory: StoreFactory): void {
  let store: Store
  let cleanup: (() => Promise<void>) | undefined
  t.beforeEach(async () => {
    ;({ store, cleanup } = await factory())
  })
  t.afterEach(async () => {
    await cleanup?.()
    await store.close()
  })

  t.test('ping resolves when the backend is up', async (t) => {
    await t.resolves(store.ping())
  })

  t.test('a user round-trips with every field', async (t) => {
    await store.putUser(user())
    t.same(await store.getUser('sub-alice'), user())
    const minimal = user({ sub: 'sub-min', username: 'min', roles: [] })
    delete (minimal as { email?: string }).email
    delete (minimal as { emailVerified?: boolean }).emailVerified
    delete (minimal as { name?: string }).name
    await store.putUser(minimal)
    t.same(await store.getUser('sub-min'), minimal)
  })

  t.test('users are found by username case-insensitively', async (t) => {
    await store.putUser(user())
    t.equal((await store.findUserByUsername('alice'))?.sub, 'sub-alice')
    t.equal((await store.findUserByUsername('ALICE'))?.sub, 'sub-alice')
    t.equal(await store.findUserByUsername('nobody'), undefined)
    t.equal(await store.getUser('nobody'), undefined)
  })

  t.test('a username belongs to one user', async (t) => {
    await store.putUser(user())
    await t.rejects(store.putUser(user({ sub: 'sub-other', username: 'alice' })), UsernameTakenError)
    t.equal((await store.findUserByUsername('alice'))?.sub, 'sub-alice')
  })

  t.test('renaming a user frees the old username', async (t) => {
    await store.putUser(user())
    await store.putUser(user({ username: 'alice2', updatedAt: 2 }))
    t.equal(await store.findUserByUsername('alice'), undefined)
    t.equal((await store.findUserByUsername('alice2'))?.sub, 'sub-alice')
    await store.putUser(user({ sub: 'sub-new', username: 'alice' }))
    t.equal((await store.findUserByUsername('alice'))?.sub, 'sub-new')
  })

  t.test('updating a user replaces its fields', async (t) => {
    await store.putUser(user())
    const updated = user({ disabled: true, roles: [], updatedAt: 5 })
    delete (updated as { email?: string }).email
    await store.putUser(updated)
    t.same(await store.getUser('sub-alice'), updated)
  })

  t.test('users are listed by username', async (t) => {
    await store.putUser(user({ sub: 's2', username: 'zed' }))
    await store.putUser(user())
    t.same(
      (await store.listUsers()).map((u) => u.username),
      ['Alice', 'zed'],
    )
  })

  t.test('a stored record cannot be mutated through a returned copy', async (t) => {
    await store.putUser(user())
    const copy = (await store.getUser('sub-alice')) as unknown as { roles: string[] }
    copy.roles.push('root')
    t.same((await store.getUser('sub-alice'))?.roles, ['admin'])
  })

  t.test('clients round-trip, list and remove', async (t) => {
    const pub = client({
      clientId: 'web',
      public: true,
      redirectUris: ['https://app/cb'],
      allowedOrigins: ['https://app'],
    })
    delete (pub as { secretHash?: string }).secretHash
    await store.putClient(client({ name: 'Orders' }))
    await store.putClient(pub)
    t.same(await store.getClient('orders'), client({ name: 'Orders' }))
    t.same(await store.getClient('web'), pub)
    t.same(
      (await store.listClients()).map((c) => c.clientId),
      ['orders', 'web'],
    )
    t.equal(await store.removeClient('orders'), true)
    t.equal(await store.removeClient('orders'), false)
    t.equal(await store.getClient('orders'), undefined)
    t.same(
      (await store.listClients()).map((c) => c.clientId),
      ['web'],
    )
  })

  t.test('putting a client again replaces it', async (t) => {
    await store.putClient(client())
    await store.putClient(client({ scopes: ['a', 'b'] }))
    t.same((await store.getClient('orders'))?.scopes, ['a', 'b'])
  })

  // --- sessions: refresh-token families -------------------------------------------------------

  const SUB = 'sub-alice'
  const MIN = 60_000
  const start = Date.now()
  const session = (overrides: Partial<NewSession> = {}): NewSession => ({
    sub: SUB,
    fid: 'fam1',
    tokenHash: 'h0',
    clientId: 'web',
    scope: ['openid', 'notes:read', 'notes:write'],
    audience: ['https://api.test'],
    authTime: Math.floor(start / 1000),
    userAgent: 'Firefox',
    now: start,
    idleTtlMs: 60 * MIN,
    absoluteTtlMs: 24 * 60 * MIN,
    ...overrides,
  })
  const rotate = (overrides: Partial<RotateRequest> = {}): RotateRequest => ({
    sub: SUB,
    fid: 'fam1',
    presentedHash: 'h0',
    successorHash: 'h1',
    sealedSuccessor: 'sealed-1',
    clientId: 'web',
    now: start + 1000,
    idleTtlMs: 60 * MIN,
    graceMs: 10_000,
    ...overrides,
  })
  const withUser = async () => store.putUser(user({ sub: SUB }))

  t.test('sessions: a rotation spends the token and carries the user claims', async (t) => {
    await withUser()
    const expires = await store.createSession(session())
    t.equal(expires, start + 60 * MIN)
    const result = await store.rotateRefresh(rotate())
    t.equal(result.outcome, 'rotated')
    if (result.outcome !== 'rotated') return
    t.same(result.session.scope, ['openid', 'notes:read', 'notes:write'])
    t.same(result.session.audience, ['https://api.test'])
    t.equal(result.session.authTime, Math.floor(start / 1000))
    t.equal(result.session.expiresAt, start + 1000 + 60 * MIN, 'idle expiry slides')
    t.same(result.session.user, {
      sub: SUB,
      username: 'Alice',
      roles: ['admin'],
      name: 'Alice',
      email: 'alice@example.com',
      emailVerified: true,
    })
    const next = await store.rotateRefresh(rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 60_000 }))
    t.equal(next.outcome, 'rotated', 'the successor is live')
  })

  t.test('sessions: the parent within the grace window replays the same sealed successor', async (t) => {
    await withUser()
    await store.createSession(session())
    await store.rotateRefresh(rotate())
    for (let i = 0; i < 3; i++) {
      const again = await store.rotateRefresh(
        rotate({ successorHash: `other-${i}`, sealedSuccessor: `x-${i}`, now: start + 5000 }),
      )
      t.equal(again.outcome, 'replay')
      if (again.outcome === 'replay') t.equal(again.sealedSuccessor, 'sealed-1')
    }
    const live = await store.rotateRefresh(rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 6000 }))
    t.equal(live.outcome, 'rotated', 'the family did not fork: h1 is still the one live token')
  })

  t.test('sessions: the parent after the grace window is theft and revokes the family', async (t) => {
    await withUser()
    await store.createSession(session())
    await store.rotateRefresh(rotate())
    const late = await store.rotateRefresh(rotate({ now: start + 1000 + 10_001 }))
    t.same(late, { outcome: 'reuse', clientId: 'web' })
    const newest = await store.rotateRefresh(rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 12_000 }))
    t.equal(newest.outcome, 'invalid', 'the newest token of the family is dead too')
    t.same(await store.listSessions(SUB, start + 12_000), [])
  })

  t.test('sessions: an older ancestor is theft even within the grace window', async (t) => {
    await withUser()
    await store.createSession(session())
    await store.rotateRefresh(rotate())
    await store.rotateRefresh(rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 2000 }))
    const ancestor = await store.rotateRefresh(rotate({ presentedHash: 'h0', now: start + 3000 }))
    t.equal(ancestor.outcome, 'reuse')
    t.equal((await store.rotateRefresh(rotate({ presentedHash: 'h2', now: start + 4000 }))).outcome, 'invalid')
  })

  t.test("sessions: reuse ends only that family; the user's other sessions live on", async (t) => {
    await withUser()
    await store.createSession(session())
    await store.createSession(session({ fid: 'fam2', tokenHash: 'g0' }))
    await store.rotateRefresh(rotate())
    await store.rotateRefresh(rotate({ now: start + 60_000 }))
    const other = await store.rotateRefresh(
      rotate({ fid: 'fam2', presentedHash: 'g0', successorHash: 'g1', now: start + 61_000 }),
    )
    t.equal(other.outcome, 'rotated')
  })

  t.test('sessions: a token is bound to its client', async (t) => {
    await withUser()
    await store.createSession(session())
    t.same(await store.rotateRefresh(rotate({ clientId: 'evil' })), { outcome: 'wrong_client' })
    t.equal((await store.rotateRefresh(rotate())).outcome, 'rotated', 'nothing was spent')
  })

  t.test('sessions: a disabled or deleted user stops refreshing', async (t) => {
    await store.putUser(user({ sub: SUB, disabled: true }))
    await store.createSession(session())
    t.same(await store.rotateRefresh(rotate()), { outcome: 'disabled' })
    t.equal((await store.rotateRefresh(rotate())).outcome, 'invalid', 'and the session was ended')
    await store.createSession(session({ sub: 'sub-ghost' }))
    t.same(await store.rotateRefresh(rotate({ sub: 'sub-ghost' })), { outcome: 'disabled' })
  })

  t.test('sessions: a narrower scope or audience is allowed, a wider one changes nothing', async (t) => {
    await withUser()
    await store.createSession(session())
    t.same(await store.rotateRefresh(rotate({ scope: ['notes:read', 'admin'] })), { outcome: 'invalid_scope' })
    t.same(await store.rotateRefresh(rotate({ audience: ['https://evil.test'] })), { outcome: 'invalid_target' })
    const narrow = await store.rotateRefresh(rotate({ scope: ['notes:read'], audience: ['https://api.test'] }))
    t.equal(narrow.outcome, 'rotated')
    if (narrow.outcome === 'rotated') t.same(narrow.session.scope, ['openid', 'notes:read', 'notes:write'])
  })

  t.test('sessions: the absolute lifetime ends a session however often it is refreshed', async (t) => {
    await withUser()
    await store.createSession(session({ absoluteTtlMs: 5 * MIN }))
    const r = await store.rotateRefresh(rotate({ now: start + 4 * MIN }))
    t.equal(r.outcome, 'rotated')
    if (r.outcome === 'rotated') t.equal(r.session.expiresAt, start + 5 * MIN, 'idle expiry capped by absolute')
    const late = await store.rotateRefresh(rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 5 * MIN }))
    t.equal(late.outcome, 'invalid')
  })

  t.test('sessions: the idle lifetime ends an unused session', async (t) => {
    await withUser()
    // Created long enough ago that its idle expiry has already passed, on the store's own clock.
    const longAgo = Date.now() - 2 * MIN
    await store.createSession(session({ now: longAgo, idleTtlMs: MIN }))
    t.equal((await store.rotateRefresh(rotate({ now: Date.now() }))).outcome, 'invalid')
    t.same(await store.listSessions(SUB, Date.now()), [])
  })

  t.test('sessions: listed without token material, pruned when expired', async (t) => {
    await withUser()
    await store.createSession(session())
    await store.createSession(
      session({ fid: 'fam2', tokenHash: 'g0', clientId: 'cli', userAgent: undefined, now: start + 5 }),
    )
    const list = await store.listSessions(SUB, start + 10)
    t.same(list, [
      {
        fid: 'fam1',
        clientId: 'web',
        createdAt: start,
        lastUsedAt: start,
        expiresAt: start + 60 * MIN,
        scope: ['openid', 'notes:read', 'notes:write'],
        userAgent: 'Firefox',
      },
      {
        fid: 'fam2',
        clientId: 'cli',
        createdAt: start + 5,
        lastUsedAt: start + 5,
        expiresAt: start + 5 + 60 * MIN,
        scope: ['openid', 'notes:read', 'notes:write'],
      },
    ])
    await store.rotateRefresh(rotate({ now: start + 20 }))
    t.equal((await store.listSessions(SUB, start + 30))[0]?.lastUsedAt, start + 20)
  })

  t.test("sessions: revoke one, or all of a user's", async (t) => {
    await withUser()
    await store.createSession(session())
    await store.createSession(session({ fid: 'fam2', tokenHash: 'g0' }))
    await store.createSession(session({ fid: 'fam3', tokenHash: 'k0' }))
    await store.createSession(session({ sub: 'sub-bob', fid: 'famb', tokenHash: 'b0' }))
    t.equal(await store.revokeSession(SUB, 'fam1'), true)
    t.equal(await store.revokeSession(SUB, 'fam1'), false)
    t.equal((await store.rotateRefresh(rotate())).outcome, 'invalid')
    t.equal(await store.revokeUserSessions(SUB), 2)
    t.same(await store.listSessions(SUB, start), [])
    t.equal((await store.listSessions('sub-bob', start)).length, 1, 'other users untouched')
  })

  t.test('sessions: introspection sees only the current token', async (t) => {
    await withUser()
    await store.createSession(session())
    t.same(await store.inspectRefresh(SUB, 'fam1', 'h0'), {
      clientId: 'web',
      scope: ['openid', 'notes:read', 'notes:write'],
      audience: ['https://api.test'],
      createdAt: start,
      expiresAt: start + 60 * MIN,
    })
    await store.rotateRefresh(rotate())
    t.equal(await store.inspectRefresh(SUB, 'fam1', 'h0'), undefined)
    t.equal((await store.inspectRefresh(SUB, 'fam1', 'h1'))?.clientId, 'web')
    t.equal(await store.inspectRefresh(SUB, 'nope', 'h1'), undefined)
  })

  t.test('deadlines: a rotation past its deadline changes nothing and says the store is unavailable', async (t) => {
    await withUser()
    await store.createSession(session())
    await t.rejects(store.rotateRefresh(rotate({ deadline: Date.now() - 1 })), StoreUnavailableError)
    t.equal(
      (await store.rotateRefresh(rotate({ deadline: Date.now() + 60_000 }))).outcome,
      'rotated',
      'the presented token was still the current one',
    )
    const again = await store.rotateRefresh(rotate({ now: start + 2000 }))
    t.equal(again.outcome, 'replay', 'and one lineage: its retry within the grace window replays')
  })

  t.test('deadlines: a session or a code redemption past its deadline is not applied', async (t) => {
    await withUser()
    await t.rejects(store.createSession(session({ deadline: Date.now() - 1 })), StoreUnavailableError)
    t.same(await store.listSessions(SUB, start), [], 'no session was started')
    const code = {
      clientId: 'web',
      redirectUri: 'https://app.test/cb',
      codeChallenge: 'x'.repeat(43),
      scope: ['openid'],
      audience: ['https://api.test'],
      sub: SUB,
      authTime: 1,
      fid: 'fam',
      jti: 'jti',
    }
    await store.putCode('late', code, Date.now() + 60_000)
    await t.rejects(store.redeemCode('late', 'web', Date.now() - 1), StoreUnavailableError)
    t.same(await store.redeemCode('late', 'web'), { outcome: 'ok', code }, 'the code was not spent')
  })

  t.test('the marker: once written, it is found', async (t) => {
    await store.ensureMarker()
    t.equal(await store.ensureMarker(), true)
  })

  t.test('rate counts: requests are counted per key in a fixed window', async (t) => {
    const first = await store.countRequest('ip:1', 60_000)
    t.equal(first.count, 1)
    t.ok(first.ttlMs > 0 && first.ttlMs <= 60_000, `ttl ${first.ttlMs}`)
    t.equal((await store.countRequest('ip:1', 60_000)).count, 2)
    t.equal((await store.countRequest('ip:2', 60_000)).count, 1, 'keys are separate')
  })

  t.test('revocation list: a jti is revoked until its expiry', async (t) => {
    await store.revokeAccessToken('jti-1', Date.now() + MIN)
    await store.revokeAccessToken('jti-old', Date.now() - 1)
    t.equal(await store.isAccessTokenRevoked('jti-1'), true)
    t.equal(await store.isAccessTokenRevoked('jti-old'), false)
    t.equal(await store.isAccessTokenRevoked('jti-2'), false)
  })

  t.test('authorization codes: redeemed once, reuse reported with what was issued', async (t) => {
    const code = {
      clientId: 'web',
      redirectUri: 'https://app.test/cb',
      codeChallenge: 'x'.repeat(43),
      scope: ['openid'],
      audience: ['https://api.test'],
      sub: SUB,
      authTime: 1,
      nonce: 'n',
      fid: 'fam',
      jti: 'jti',
    }
    await store.putCode('c1', code, Date.now() + 60_000)
    t.same(await store.redeemCode('c1', 'evil'), { outcome: 'wrong_client' }, 'another client cannot spend it')
    t.same(await store.redeemCode('c1', 'web'), { outcome: 'ok', code })
    t.same(await store.redeemCode('c1', 'web'), { outcome: 'reused', code })
    t.same(await store.redeemCode('c1', 'web'), { outcome: 'reused', code })
    t.same(await store.redeemCode('c1', 'evil'), { outcome: 'wrong_client' }, 'nor report its reuse')
    t.same(await store.redeemCode('nope', 'web'), { outcome: 'invalid' })
  })

  t.test('authorization codes: expire', async (t) => {
    await store.putCode(
      'c2',
      {
        clientId: 'w',
        redirectUri: 'r',
        codeChallenge: 'c',
        scope: [],
        audience: [],
        sub: SUB,
        authTime: 1,
        fid: 'f',
        jti: 'j',
      },
      Date.now() - 1,
    )
    t.same(await store.redeemCode('c2', 'w'), { outcome: 'invalid' })
  })
}
