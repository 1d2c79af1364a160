// The store contract: the marker, rate counts, the revocation list, authorization codes.
import type { Test } from 'tap'
import type { SuiteStore } from '../suite.js'

export function codeAndCounterSuite(t: Test, s: SuiteStore): void {
  const SUB = 'sub-alice'
  const MIN = 60_000

  t.test('the marker: once written, it is found', async (t) => {
    await s.store.ensureMarker()
    t.equal(await s.store.ensureMarker(), true)
  })

  t.test('rate counts: requests are counted per key in a fixed window', async (t) => {
    const first = await s.store.countRequest('ip:1', 60_000)
    t.equal(first.count, 1)
    t.ok(first.ttlMs > 0 && first.ttlMs <= 60_000, `ttl ${first.ttlMs}`)
    t.equal((await s.store.countRequest('ip:1', 60_000)).count, 2)
    t.equal((await s.store.countRequest('ip:2', 60_000)).count, 1, 'keys are separate')
  })

  t.test('client assertions: an id is claimed once until its time runs out', async (t) => {
    t.equal(await s.store.claimAssertionId('orders\njti-1', 60_000), true, 'first use')
    t.equal(await s.store.claimAssertionId('orders\njti-1', 60_000), false, 'replayed')
    t.equal(await s.store.claimAssertionId('billing\njti-1', 60_000), true, 'the same jti of another client')
    t.equal(await s.store.claimAssertionId('orders\njti-short', 50), true)
    // Expiry is the backend's own (Redis PX, the memory store's clock, both real time here): wait for it, bounded.
    let again = false
    for (let i = 0; i < 100 && !again; i++) {
      await new Promise((r) => setTimeout(r, 20))
      again = await s.store.claimAssertionId('orders\njti-short', 50)
    }
    t.equal(again, true, 'usable again once it has expired')
  })

  t.test('revocations: a jti is denied until its expiry', async (t) => {
    const at = Date.now()
    await s.store.recordRevocation({ kind: 'token', jti: 'jti-1', sub: SUB, at, until: at + MIN }, MIN)
    await s.store.recordRevocation({ kind: 'token', jti: 'jti-old', sub: SUB, at, until: at - 1_000 }, MIN)
    const state = (jti: string) => s.store.revocationState({ jti, sub: SUB, clientId: 'web' })
    t.equal((await state('jti-1')).token, true)
    t.equal((await state('jti-old')).token, false)
    t.equal((await state('jti-2')).token, false)
  })

  t.test('revocations: a session, a user and a client are denied, with when', async (t) => {
    const at = Date.now()
    await s.store.recordRevocation(
      { kind: 'session', sid: 'sid-1', sub: SUB, reason: 'logout', at, until: at + MIN },
      MIN,
    )
    await s.store.recordRevocation({ kind: 'user', sub: 'sub-bob', at, until: at + MIN }, MIN)
    await s.store.recordRevocation({ kind: 'client', clientId: 'gone', at: at + 5, until: at + MIN }, MIN)
    t.same(await s.store.revocationState({ jti: 'j', sid: 'sid-1', sub: SUB, clientId: 'web' }), {
      token: false,
      session: true,
    })
    t.same(await s.store.revocationState({ jti: 'j', sid: 'sid-2', sub: 'sub-bob', clientId: 'gone' }), {
      token: false,
      session: false,
      userAt: at,
      clientAt: at + 5,
    })
    await s.store.recordRevocation({ kind: 'user', sub: 'sub-bob', at: at - 100, until: at + 1 }, MIN)
    t.equal(
      (await s.store.revocationState({ jti: 'j', sub: 'sub-bob', clientId: 'web' })).userAt,
      at,
      'a denial never moves back in time',
    )
  })

  t.test('the revocation log: read in order after a cursor, followed as it grows', async (t) => {
    const at = Date.now()
    const record = (sid: string) =>
      s.store.recordRevocation({ kind: 'session', sid, sub: SUB, reason: 'logout', at, until: at + MIN }, MIN)
    const first = await record('a')
    const second = await record('b')
    const all = await s.store.readRevocations(undefined, 100)
    t.same(
      all.map((e) => e.id),
      [first, second],
    )
    t.same(all[1]?.revocation, { kind: 'session', sid: 'b', sub: SUB, reason: 'logout', at, until: at + MIN })
    t.same(
      (await s.store.readRevocations(first, 100)).map((e) => e.id),
      [second],
      'after a cursor',
    )
    t.same(await s.store.readRevocations(second, 100), [], 'nothing after the newest')
    const seen: string[] = []
    const follower = s.store.followRevocations(second, (entries) => {
      for (const e of entries) seen.push((e.revocation as { sid: string }).sid)
    })
    t.teardown(() => follower.stop())
    await record('c')
    await record('d')
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 20))
    t.same(seen, ['c', 'd'], 'appended entries reach the follower in order, once')
  })

  t.test('a follower without a cursor misses nothing: entries appended at once, and between its reads', async (t) => {
    const at = Date.now()
    const record = (sid: string) =>
      s.store.recordRevocation({ kind: 'session', sid, sub: SUB, reason: 'logout', at, until: at + MIN }, MIN)
    const seen: string[] = []
    const follower = s.store.followRevocations(undefined, (entries) => {
      for (const e of entries) seen.push((e.revocation as { sid: string }).sid)
    })
    t.teardown(() => follower.stop())
    await record('first') // before a Redis follower's own connection is even up
    for (let i = 0; i < 100 && seen.length < 1; i++) await new Promise((r) => setTimeout(r, 20))
    await record('second')
    await record('third')
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20))
    t.same(seen, ['first', 'second', 'third'])
  })

  t.test('the revocation log keeps entries for its retention and no longer', async (t) => {
    const retention = 300
    const at = Date.now()
    await s.store.recordRevocation({ kind: 'token', jti: 'old', sub: SUB, at, until: at + MIN }, retention)
    // Past the retention, the next append trims what is older.
    await new Promise((r) => setTimeout(r, retention + 100))
    await s.store.recordRevocation({ kind: 'token', jti: 'new', sub: SUB, at, until: at + MIN }, retention)
    t.same(
      (await s.store.readRevocations(undefined, 100)).map((e) => (e.revocation as { jti: string }).jti),
      ['new'],
    )
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
    await s.store.putCode('c1', code, Date.now() + 60_000)
    t.same(await s.store.redeemCode('c1', 'evil'), { outcome: 'wrong_client' }, 'another client cannot spend it')
    t.same(await s.store.redeemCode('c1', 'web'), { outcome: 'ok', code })
    t.same(await s.store.redeemCode('c1', 'web'), { outcome: 'reused', code })
    t.same(await s.store.redeemCode('c1', 'web'), { outcome: 'reused', code })
    t.same(await s.store.redeemCode('c1', 'evil'), { outcome: 'wrong_client' }, 'nor report its reuse')
    t.same(await s.store.redeemCode('nope', 'web'), { outcome: 'invalid' })
  })

  t.test('authorization codes: expire', async (t) => {
    await s.store.putCode(
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
    t.same(await s.store.redeemCode('c2', 'w'), { outcome: 'invalid' })
  })
}
