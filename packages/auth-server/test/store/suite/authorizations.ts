// The store contract: pushed authorization requests (RFC 9126) and device authorizations (RFC 8628).
import type { Test } from 'tap'
import type { DeviceAuthorization } from '../../../src/store/types.js'
import type { SuiteStore } from '../suite.js'

export function authorizationSuite(t: Test, s: SuiteStore): void {
  const params = { response_type: 'code', client_id: 'spa', scope: 'openid', resource: ['https://a', 'https://b'] }

  t.test('a pushed request is taken once, by the client that pushed it', async (t) => {
    await s.store.putPushedRequest('r1', { clientId: 'spa', params }, Date.now() + 60_000)
    t.equal(await s.store.takePushedRequest('r1', 'other'), undefined, 'another client gets nothing')
    t.same(await s.store.takePushedRequest('r1', 'spa'), { clientId: 'spa', params }, '…and burned nothing')
    t.equal(await s.store.takePushedRequest('r1', 'spa'), undefined, 'used once')
  })

  t.test('an expired pushed request is gone', async (t) => {
    await s.store.putPushedRequest('r2', { clientId: 'spa', params }, Date.now() + 50)
    await new Promise((resolve) => setTimeout(resolve, 120))
    t.equal(await s.store.takePushedRequest('r2', 'spa'), undefined)
  })

  const device = (overrides: Partial<DeviceAuthorization> = {}): DeviceAuthorization => ({
    clientId: 'cli',
    scope: ['openid', 'notes:read'],
    audience: ['https://api'],
    userCode: 'BCDFGHJK',
    expiresAt: Date.now() + 600_000,
    intervalSec: 5,
    ...overrides,
  })

  t.test('a device authorization: found by its user code, pending, then approved once', async (t) => {
    const auth = device()
    t.equal(await s.store.createDeviceAuthorization('h1', auth, auth.expiresAt + 600_000), true)
    t.equal(
      await s.store.createDeviceAuthorization('h2', device(), Date.now() + 1_200_000),
      false,
      'a live user code is not given twice',
    )
    t.same(await s.store.deviceByUserCode('BCDFGHJK'), auth)
    let now = Date.now()
    t.same(await s.store.pollDevice('h1', 'cli', now), { outcome: 'pending' })
    t.same(await s.store.pollDevice('h1', 'cli', now + 1_000), { outcome: 'slow_down', intervalSec: 10 })
    t.same(
      await s.store.pollDevice('h1', 'cli', now + 5_000),
      { outcome: 'slow_down', intervalSec: 15 },
      '+5 each time',
    )
    now += 25_000
    t.same(await s.store.pollDevice('h1', 'other', now), { outcome: 'invalid' }, 'another client')
    t.equal(await s.store.decideDevice('BCDFGHJK', { approved: true, sub: 'sub-alice', authTime: 1234 }), true)
    t.equal(await s.store.deviceByUserCode('BCDFGHJK'), undefined, 'no longer pending')
    t.equal(await s.store.decideDevice('BCDFGHJK', { approved: false }), false, 'decided once')
    t.same(await s.store.pollDevice('h1', 'cli', now), {
      outcome: 'approved',
      authorization: auth,
      sub: 'sub-alice',
      authTime: 1234,
    })
    t.same(await s.store.pollDevice('h1', 'cli', now + 20_000), { outcome: 'invalid' }, 'spent')
  })

  t.test('a denied device authorization answers denied; an expired one expired, until it is forgotten', async (t) => {
    const denied = device({ userCode: 'CDFGHJKL' })
    await s.store.createDeviceAuthorization('h3', denied, denied.expiresAt + 600_000)
    t.equal(await s.store.decideDevice('CDFGHJKL', { approved: false }), true)
    t.same(await s.store.pollDevice('h3', 'cli', Date.now()), { outcome: 'denied' })
    const soon = device({ userCode: 'DFGHJKLM', expiresAt: Date.now() + 100 })
    await s.store.createDeviceAuthorization('h4', soon, soon.expiresAt + 600_000)
    t.same(await s.store.pollDevice('h4', 'cli', soon.expiresAt + 1), { outcome: 'expired' })
    await new Promise((resolve) => setTimeout(resolve, 150))
    t.equal(await s.store.deviceByUserCode('DFGHJKLM'), undefined, 'an expired code is not found')
    t.equal(await s.store.decideDevice('DFGHJKLM', { approved: true, sub: 's', authTime: 1 }), false)
    t.equal(
      await s.store.createDeviceAuthorization('h5', device({ userCode: 'DFGHJKLM' }), Date.now() + 1_200_000),
      true,
      'its user code is free again',
    )
  })

  t.test('unknown device codes are invalid', async (t) => {
    t.same(await s.store.pollDevice('nope', 'cli', Date.now()), { outcome: 'invalid' })
  })
}
