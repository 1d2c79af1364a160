// The store contract: the audit log, conditional writes with their audit events, initial access tokens, sessions
// found by their public id.
import type { Test } from 'tap'
import {
  type AuditRecord,
  type AuditWrite,
  compareLogIds,
  type InitialAccessTokenRecord,
  WriteConflictError,
} from '../../../src/store/types.js'
import type { SuiteStore } from '../suite.js'
import { client, user } from './fixtures.js'

const DAY = 86_400_000

export function adminSuite(t: Test, s: SuiteStore): void {
  const start = Date.now()
  const event = (overrides: Partial<AuditRecord> = {}): AuditRecord => ({
    type: 'client.updated',
    time: start,
    actor: { type: 'operator', id: 'alice' },
    target: { type: 'client', id: 'orders' },
    outcome: 'success',
    requestId: 'req-1',
    sourceIp: '127.0.0.1',
    details: { fields: ['scopes'] },
    ...overrides,
  })
  const write = (overrides: Partial<AuditRecord> = {}, retentionMs = 30 * DAY): AuditWrite => ({
    record: event(overrides),
    retentionMs,
  })
  const types = async () => (await s.store.readAudit({ limit: 100 })).map((e) => e.event.type)
  const waitFor = async (done: () => boolean) => {
    for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10))
  }

  t.test('audit: events round-trip in order, ids from their time', async (t) => {
    const first = await s.store.appendAudit(write())
    const second = await s.store.appendAudit(write({ type: 'user.disabled', time: start + 5 }))
    t.match(first, new RegExp(`^${start}-\\d+$`))
    t.match(second, new RegExp(`^${start + 5}-\\d+$`))
    const all = await s.store.readAudit({ limit: 10 })
    t.same(
      all.map((e) => e.id),
      [first, second],
    )
    t.same(all[0]?.event, event())
    t.same(
      (await s.store.readAudit({ limit: 10, reverse: true })).map((e) => e.id),
      [second, first],
      'newest first',
    )
  })

  t.test('audit: an event from a slower clock never goes before the newest', async (t) => {
    const newest = await s.store.appendAudit(write({ time: start + 1_000 }))
    const late = await s.store.appendAudit(write({ time: start, type: 'user.created' }))
    t.ok(compareLogIds(late, newest) > 0, `${late} after ${newest}`)
    t.equal(late.split('-')[0], newest.split('-')[0])
    t.same(await types(), ['client.updated', 'user.created'])
  })

  t.test('audit: ranges by cursor and time, both ways', async (t) => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push(await s.store.appendAudit(write({ time: start + i * 10 })))
    const read = async (range: Parameters<typeof s.store.readAudit>[0]) =>
      (await s.store.readAudit(range)).map((e) => ids.indexOf(e.id))
    t.same(await read({ after: ids[1], limit: 10 }), [2, 3, 4], 'after a cursor')
    t.same(await read({ before: ids[3], limit: 10, reverse: true }), [2, 1, 0], 'before a cursor, newest first')
    t.same(await read({ since: start + 10, until: start + 30, limit: 10 }), [1, 2, 3], 'a time range, inclusive')
    t.same(await read({ since: start + 10, until: start + 30, limit: 2, reverse: true }), [3, 2], 'limited')
    t.same(await read({ after: ids[0], since: start + 20, limit: 10 }), [2, 3, 4], 'the tighter bound wins')
    t.same(await read({ before: ids[4], until: start + 20, limit: 10, reverse: true }), [2, 1, 0])
  })

  t.test('audit: entries older than the retention (by the events’ clock) are dropped', async (t) => {
    await s.store.appendAudit(write({ type: 'old' }, 10 * DAY))
    await s.store.appendAudit(write({ type: 'recent', time: start + 5 * DAY }, 10 * DAY))
    // Eleven days later by the writer's clock: the first event is past the retention.
    await s.store.appendAudit(write({ type: 'now', time: start + 11 * DAY }, 10 * DAY))
    t.same(await types(), ['recent', 'now'])
  })

  t.test('audit: a follower gets every new entry once, in order, from its cursor', async (t) => {
    const before = await s.store.appendAudit(write({ type: 'before' }))
    const seen: string[] = []
    const follower = s.store.followAudit(before, (entries) => {
      for (const e of entries) seen.push(e.event.type)
    })
    t.teardown(() => follower.stop())
    await s.store.appendAudit(write({ type: 'one' }))
    await s.store.appendAudit(write({ type: 'two' }))
    await waitFor(() => seen.length >= 2)
    t.same(seen, ['one', 'two'])
  })

  t.test('conditional writes: create only, update only, by version, with the audit event', async (t) => {
    const orders = client({ createdAt: 10 })
    await s.store.putClient(orders, { ifMatch: 'absent', audit: write({ type: 'client.created' }) })
    await t.rejects(s.store.putClient(orders, { ifMatch: 'absent' }), new WriteConflictError('exists'))
    await t.rejects(
      s.store.putClient(client({ clientId: 'nobody' }), { ifMatch: '*' }),
      new WriteConflictError('missing'),
    )
    const changed = client({ createdAt: 10, updatedAt: 20, scopes: ['a'] })
    await s.store.putClient(changed, { ifMatch: '10', audit: write({ type: 'client.updated' }) })
    await t.rejects(
      s.store.putClient(client({ createdAt: 10, updatedAt: 30 }), { ifMatch: '10', audit: write({ type: 'lost' }) }),
      new WriteConflictError('stale'),
      'a write based on the old version is refused',
    )
    t.same(await s.store.getClient('orders'), changed, 'and changed nothing')
    await t.rejects(s.store.removeClient('orders', { ifMatch: '10' }), new WriteConflictError('stale'))
    t.equal(await s.store.removeClient('orders', { ifMatch: '20', audit: write({ type: 'client.deleted' }) }), true)
    t.equal(await s.store.getClient('orders'), undefined)
    t.same(await s.store.listClients(), [])
    t.equal(await s.store.removeClient('orders'), false, 'unconditional: nothing to remove')
    t.same(await types(), ['client.created', 'client.updated', 'client.deleted'], 'no event for a refused write')
  })

  t.test('clients keep their registration token hash and version', async (t) => {
    const registered = client({ registrationTokenHash: 'hmac-sha256$r', updatedAt: 5 })
    await s.store.putClient(registered)
    t.same(await s.store.getClient('orders'), registered)
  })

  t.test('users: conditional updates keep the session index; removal frees the username', async (t) => {
    const alice = user({ updatedAt: 7 })
    await s.store.putUser(alice, { audit: write({ type: 'user.created' }) })
    await s.store.createSession({
      sub: alice.sub,
      fid: 'fam1',
      sid: 'sid-1',
      tokenHash: 'h0',
      clientId: 'web',
      scope: ['openid'],
      audience: ['https://api.test'],
      authTime: 1,
      now: start,
      idleTtlMs: DAY,
      absoluteTtlMs: DAY,
    })
    const disabled = user({ disabled: true, updatedAt: 8, roles: [] })
    delete (disabled as { email?: string }).email
    await t.rejects(s.store.updateUser(disabled, { ifMatch: '6' }), new WriteConflictError('stale'))
    await s.store.updateUser(disabled, { ifMatch: '7', audit: write({ type: 'user.disabled' }) })
    t.same(await s.store.getUser(alice.sub), disabled, 'fields replaced, the cleared one gone')
    t.equal((await s.store.listSessions(alice.sub, start)).length, 1, 'the session index is kept')
    await t.rejects(s.store.updateUser(user({ sub: 'nobody' })), new WriteConflictError('missing'))
    await t.rejects(s.store.removeUser(alice.sub, { ifMatch: '7' }), new WriteConflictError('stale'))
    await s.store.removeUser(alice.sub, { ifMatch: '8', audit: write({ type: 'user.deleted' }) })
    t.equal(await s.store.getUser(alice.sub), undefined)
    t.equal(await s.store.findUserByUsername('alice'), undefined)
    t.same(await s.store.listUsers(), [])
    await s.store.putUser(user({ sub: 'sub-new' }))
    t.equal((await s.store.findUserByUsername('alice'))?.sub, 'sub-new', 'the username is free again')
    await t.rejects(s.store.removeUser('sub-alice'), new WriteConflictError('missing'))
    t.same(await types(), ['user.created', 'user.disabled', 'user.deleted'])
  })

  t.test('sessions are found by their public id', async (t) => {
    await s.store.putUser(user())
    await s.store.createSession({
      sub: 'sub-alice',
      fid: 'fam9',
      sid: 'sid-9',
      tokenHash: 'h0',
      clientId: 'web',
      scope: ['openid'],
      audience: ['https://api.test'],
      authTime: 1,
      now: start,
      idleTtlMs: DAY,
      absoluteTtlMs: DAY,
    })
    const found = await s.store.findSession('sid-9', start)
    t.equal(found?.sub, 'sub-alice')
    t.equal(found?.session.fid, 'fam9')
    t.equal(await s.store.findSession('sid-unknown', start), undefined)
    await s.store.revokeSession('sub-alice', 'fam9')
    t.equal(await s.store.findSession('sid-9', start), undefined, 'an ended session is not found')
  })

  t.test('revocations carry their audit event in the same step', async (t) => {
    await s.store.recordRevocation(
      { kind: 'session', sid: 's1', sub: 'u', reason: 'admin', at: start, until: start + 60_000 },
      60_000,
      write({ type: 'session.revoked' }),
    )
    await s.store.recordRevocation({ kind: 'user', sub: 'u', at: start, until: start + 60_000 }, 60_000)
    t.same(await types(), ['session.revoked'])
    t.equal((await s.store.readRevocations(undefined, 10)).length, 2)
  })

  t.test('initial access tokens: used at most their number of uses, even racing', async (t) => {
    const token: InitialAccessTokenRecord = {
      id: 'iat1',
      secretHash: 'hmac-sha256$i',
      createdAt: start,
      expiresAt: start + DAY,
      maxUses: 3,
      usesLeft: 3,
      createdBy: 'operator:alice',
      description: 'ci',
    }
    await s.store.putInitialAccessToken(token, { audit: write({ type: 'initial_access_token.created' }) })
    t.same(await s.store.getInitialAccessToken('iat1', start), token)
    t.same(await s.store.listInitialAccessTokens(start), [token])
    const uses = await Promise.all(Array.from({ length: 6 }, () => s.store.useInitialAccessToken('iat1', start)))
    t.same(uses.filter((u) => u !== undefined).sort(), [0, 1, 2], 'three uses, then none')
    t.equal(await s.store.getInitialAccessToken('iat1', start), undefined, 'a used-up token is gone')
    t.same(await s.store.listInitialAccessTokens(start), [])

    await s.store.putInitialAccessToken({ ...token, id: 'iat2', expiresAt: start + 1_000 })
    t.equal(await s.store.useInitialAccessToken('iat2', start + 1_000), undefined, 'an expired token is refused')
    await s.store.putInitialAccessToken({ ...token, id: 'iat3' })
    t.equal(
      await s.store.removeInitialAccessToken('iat3', { audit: write({ type: 'initial_access_token.revoked' }) }),
      true,
    )
    t.equal(await s.store.useInitialAccessToken('iat3', start), undefined)
    t.equal(await s.store.removeInitialAccessToken('iat3'), false)
    t.same(await types(), ['initial_access_token.created', 'initial_access_token.revoked'])
  })
}
