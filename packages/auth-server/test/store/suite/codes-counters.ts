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

  t.test('revocation list: a jti is revoked until its expiry', async (t) => {
    await s.store.revokeAccessToken('jti-1', Date.now() + MIN)
    await s.store.revokeAccessToken('jti-old', Date.now() - 1)
    t.equal(await s.store.isAccessTokenRevoked('jti-1'), true)
    t.equal(await s.store.isAccessTokenRevoked('jti-old'), false)
    t.equal(await s.store.isAccessTokenRevoked('jti-2'), false)
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
