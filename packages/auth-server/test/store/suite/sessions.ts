// The store contract: sessions (refresh-token families), rotation, reuse, lifetimes, deadlines.
import type { Test } from 'tap'
import { StoreUnavailableError } from '../../../src/errors.js'
import type { NewSession, RotateRequest } from '../../../src/store/types.js'
import type { SuiteStore } from '../suite.js'
import { user } from './fixtures.js'

export function sessionSuite(t: Test, s: SuiteStore): void {
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
  const withUser = async () => s.store.putUser(user({ sub: SUB }))

  t.test('sessions: a rotation spends the token and carries the user claims', async (t) => {
    await withUser()
    const expires = await s.store.createSession(session())
    t.equal(expires, start + 60 * MIN)
    const result = await s.store.rotateRefresh(rotate())
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
    const next = await s.store.rotateRefresh(rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 60_000 }))
    t.equal(next.outcome, 'rotated', 'the successor is live')
  })

  t.test('sessions: the parent within the grace window replays the same sealed successor', async (t) => {
    await withUser()
    await s.store.createSession(session())
    await s.store.rotateRefresh(rotate())
    for (let i = 0; i < 3; i++) {
      const again = await s.store.rotateRefresh(
        rotate({ successorHash: `other-${i}`, sealedSuccessor: `x-${i}`, now: start + 5000 }),
      )
      t.equal(again.outcome, 'replay')
      if (again.outcome === 'replay') t.equal(again.sealedSuccessor, 'sealed-1')
    }
    const live = await s.store.rotateRefresh(rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 6000 }))
    t.equal(live.outcome, 'rotated', 'the family did not fork: h1 is still the one live token')
  })

  t.test('sessions: the parent after the grace window is theft and revokes the family', async (t) => {
    await withUser()
    await s.store.createSession(session())
    await s.store.rotateRefresh(rotate())
    const late = await s.store.rotateRefresh(rotate({ now: start + 1000 + 10_001 }))
    t.same(late, { outcome: 'reuse', clientId: 'web' })
    const newest = await s.store.rotateRefresh(
      rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 12_000 }),
    )
    t.equal(newest.outcome, 'invalid', 'the newest token of the family is dead too')
    t.same(await s.store.listSessions(SUB, start + 12_000), [])
  })

  t.test('sessions: an older ancestor is theft even within the grace window', async (t) => {
    await withUser()
    await s.store.createSession(session())
    await s.store.rotateRefresh(rotate())
    await s.store.rotateRefresh(rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 2000 }))
    const ancestor = await s.store.rotateRefresh(rotate({ presentedHash: 'h0', now: start + 3000 }))
    t.equal(ancestor.outcome, 'reuse')
    t.equal((await s.store.rotateRefresh(rotate({ presentedHash: 'h2', now: start + 4000 }))).outcome, 'invalid')
  })

  t.test("sessions: reuse ends only that family; the user's other sessions live on", async (t) => {
    await withUser()
    await s.store.createSession(session())
    await s.store.createSession(session({ fid: 'fam2', tokenHash: 'g0' }))
    await s.store.rotateRefresh(rotate())
    await s.store.rotateRefresh(rotate({ now: start + 60_000 }))
    const other = await s.store.rotateRefresh(
      rotate({ fid: 'fam2', presentedHash: 'g0', successorHash: 'g1', now: start + 61_000 }),
    )
    t.equal(other.outcome, 'rotated')
  })

  t.test('sessions: a token is bound to its client', async (t) => {
    await withUser()
    await s.store.createSession(session())
    t.same(await s.store.rotateRefresh(rotate({ clientId: 'evil' })), { outcome: 'wrong_client' })
    t.equal((await s.store.rotateRefresh(rotate())).outcome, 'rotated', 'nothing was spent')
  })

  t.test('sessions: a disabled or deleted user stops refreshing', async (t) => {
    await s.store.putUser(user({ sub: SUB, disabled: true }))
    await s.store.createSession(session())
    t.same(await s.store.rotateRefresh(rotate()), { outcome: 'disabled' })
    t.equal((await s.store.rotateRefresh(rotate())).outcome, 'invalid', 'and the session was ended')
    await s.store.createSession(session({ sub: 'sub-ghost' }))
    t.same(await s.store.rotateRefresh(rotate({ sub: 'sub-ghost' })), { outcome: 'disabled' })
  })

  t.test('sessions: a narrower scope or audience is allowed, a wider one changes nothing', async (t) => {
    await withUser()
    await s.store.createSession(session())
    t.same(await s.store.rotateRefresh(rotate({ scope: ['notes:read', 'admin'] })), { outcome: 'invalid_scope' })
    t.same(await s.store.rotateRefresh(rotate({ audience: ['https://evil.test'] })), { outcome: 'invalid_target' })
    const narrow = await s.store.rotateRefresh(rotate({ scope: ['notes:read'], audience: ['https://api.test'] }))
    t.equal(narrow.outcome, 'rotated')
    if (narrow.outcome === 'rotated') t.same(narrow.session.scope, ['openid', 'notes:read', 'notes:write'])
  })

  t.test('sessions: the absolute lifetime ends a session however often it is refreshed', async (t) => {
    await withUser()
    await s.store.createSession(session({ absoluteTtlMs: 5 * MIN }))
    const r = await s.store.rotateRefresh(rotate({ now: start + 4 * MIN }))
    t.equal(r.outcome, 'rotated')
    if (r.outcome === 'rotated') t.equal(r.session.expiresAt, start + 5 * MIN, 'idle expiry capped by absolute')
    const late = await s.store.rotateRefresh(rotate({ presentedHash: 'h1', successorHash: 'h2', now: start + 5 * MIN }))
    t.equal(late.outcome, 'invalid')
  })

  t.test('sessions: the idle lifetime ends an unused session', async (t) => {
    await withUser()
    // Created long enough ago that its idle expiry has already passed, on the store's own clock.
    const longAgo = Date.now() - 2 * MIN
    await s.store.createSession(session({ now: longAgo, idleTtlMs: MIN }))
    t.equal((await s.store.rotateRefresh(rotate({ now: Date.now() }))).outcome, 'invalid')
    t.same(await s.store.listSessions(SUB, Date.now()), [])
  })

  t.test('sessions: listed without token material, pruned when expired', async (t) => {
    await withUser()
    await s.store.createSession(session())
    await s.store.createSession(
      session({ fid: 'fam2', tokenHash: 'g0', clientId: 'cli', userAgent: undefined, now: start + 5 }),
    )
    const list = await s.store.listSessions(SUB, start + 10)
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
    await s.store.rotateRefresh(rotate({ now: start + 20 }))
    t.equal((await s.store.listSessions(SUB, start + 30))[0]?.lastUsedAt, start + 20)
  })

  t.test("sessions: revoke one, or all of a user's", async (t) => {
    await withUser()
    await s.store.createSession(session())
    await s.store.createSession(session({ fid: 'fam2', tokenHash: 'g0' }))
    await s.store.createSession(session({ fid: 'fam3', tokenHash: 'k0' }))
    await s.store.createSession(session({ sub: 'sub-bob', fid: 'famb', tokenHash: 'b0' }))
    t.equal(await s.store.revokeSession(SUB, 'fam1'), true)
    t.equal(await s.store.revokeSession(SUB, 'fam1'), false)
    t.equal((await s.store.rotateRefresh(rotate())).outcome, 'invalid')
    t.equal(await s.store.revokeUserSessions(SUB), 2)
    t.same(await s.store.listSessions(SUB, start), [])
    t.equal((await s.store.listSessions('sub-bob', start)).length, 1, 'other users untouched')
  })

  t.test('sessions: introspection sees only the current token', async (t) => {
    await withUser()
    await s.store.createSession(session())
    t.same(await s.store.inspectRefresh(SUB, 'fam1', 'h0'), {
      clientId: 'web',
      scope: ['openid', 'notes:read', 'notes:write'],
      audience: ['https://api.test'],
      createdAt: start,
      expiresAt: start + 60 * MIN,
    })
    await s.store.rotateRefresh(rotate())
    t.equal(await s.store.inspectRefresh(SUB, 'fam1', 'h0'), undefined)
    t.equal((await s.store.inspectRefresh(SUB, 'fam1', 'h1'))?.clientId, 'web')
    t.equal(await s.store.inspectRefresh(SUB, 'nope', 'h1'), undefined)
  })

  t.test('deadlines: a rotation past its deadline changes nothing and says the store is unavailable', async (t) => {
    await withUser()
    await s.store.createSession(session())
    await t.rejects(s.store.rotateRefresh(rotate({ deadline: Date.now() - 1_000 })), StoreUnavailableError)
    t.equal(
      (await s.store.rotateRefresh(rotate({ deadline: Date.now() + 60_000 }))).outcome,
      'rotated',
      'the presented token was still the current one',
    )
    const again = await s.store.rotateRefresh(rotate({ now: start + 2000 }))
    t.equal(again.outcome, 'replay', 'and one lineage: its retry within the grace window replays')
  })

  t.test('deadlines: a session or a code redemption past its deadline is not applied', async (t) => {
    await withUser()
    await t.rejects(s.store.createSession(session({ deadline: Date.now() - 1_000 })), StoreUnavailableError)
    t.same(await s.store.listSessions(SUB, start), [], 'no session was started')
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
    await s.store.putCode('late', code, Date.now() + 60_000)
    await t.rejects(s.store.redeemCode('late', 'web', Date.now() - 1_000), StoreUnavailableError)
    t.same(await s.store.redeemCode('late', 'web'), { outcome: 'ok', code }, 'the code was not spent')
  })
}
