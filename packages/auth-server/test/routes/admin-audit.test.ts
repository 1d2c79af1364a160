// The audit log: an event for every administrative change and security event, with its actor and never a secret;
// queried with filters and cursors; kept for AUDIT_RETENTION (the clock is the test's); followed live over SSE.
import t from 'tap'
import { adminServer } from '../admin-helpers.js'
import { API, basic, form, SERVICE_SECRET, USER_PASSWORD } from '../helpers.js'

const logs: Record<string, unknown>[] = []
const server = await adminServer(
  { LOGIN_MAX_FAILURES: '3', REFRESH_REUSE_GRACE: '0', AUDIT_RETENTION: '3600' },
  { logs },
)
const { call, botToken, app, clock } = server
const admin = await botToken('admin-bot')
const auditor = await botToken('audit-bot')
/** Every secret this test sees: none may appear in an event or a log line. */
const secrets = new Set<string>([USER_PASSWORD, SERVICE_SECRET, 'admin-secret-0123456789abcdef0123456789abcdef', admin])
const keep = (value: unknown) => {
  if (typeof value === 'string' && value.length >= 8) secrets.add(value)
}

type Event = {
  id: string
  type: string
  actor: { type: string; id?: string; name?: string; client_id?: string }
  target?: { type: string; id: string; name?: string }
  outcome: string
  request_id?: string
  source_ip?: string
  details?: Record<string, unknown>
}
const events = async (query = ''): Promise<Event[]> => {
  const res = await call('GET', `/admin/v1/audit-events?limit=200${query}`, auditor)
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.body)}`)
  return res.body.items as Event[]
}
/** Security events are stored in the background: wait (bounded) for one to arrive. */
const eventually = async (type: string, match: (e: Event) => boolean = () => true): Promise<Event | undefined> => {
  for (let i = 0; i < 200; i++) {
    const found = (await events(`&type=${type}`)).find(match)
    if (found) return found
    await new Promise((r) => setTimeout(r, 10))
  }
  return undefined
}
const password = (username: string, pass: string, extra: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'password', client_id: 'web', username, password: pass, ...extra }),
  })

t.test('administrative changes: one event each, naming the administrator and the target', async (t) => {
  const created = await call('POST', '/admin/v1/clients', admin, {
    client_id: 'audited',
    grant_types: ['client_credentials'],
    audiences: [API],
  })
  keep(created.body.client_secret)
  const rotated = await call('POST', '/admin/v1/clients/audited/secret', admin)
  keep(rotated.body.client_secret)
  await call('PATCH', '/admin/v1/clients/audited', admin, { name: 'Audited', scopes: ['notes:read'] })
  await call('DELETE', '/admin/v1/clients/audited', admin)
  const user = await call('POST', '/admin/v1/users', admin, { username: 'nora' })
  keep(user.body.password)
  const sub = user.body.sub as string
  await call('PATCH', `/admin/v1/users/${sub}`, admin, { password: 'nora new password 1' })
  keep('nora new password 1')
  await call('PATCH', `/admin/v1/users/${sub}`, admin, { disabled: true })
  await call('PATCH', `/admin/v1/users/${sub}`, admin, { disabled: false })
  await call('PATCH', `/admin/v1/users/${sub}`, admin, { name: 'Nora' })
  await call('DELETE', `/admin/v1/users/${sub}`, admin)
  const iat = await call('POST', '/admin/v1/initial-access-tokens', admin, { description: 'ci' })
  keep(iat.body.token)
  await call('POST', '/admin/v1/keys/rotate', admin)

  const seen = await events()
  const expect = [
    ['client.created', 'client', 'audited'],
    ['client.secret_rotated', 'client', 'audited'],
    ['client.updated', 'client', 'audited'],
    ['client.tokens_revoked', 'client', 'audited'],
    ['client.deleted', 'client', 'audited'],
    ['user.created', 'user', sub],
    ['user.password_changed', 'user', sub],
    ['user.tokens_revoked', 'user', sub],
    ['user.disabled', 'user', sub],
    ['user.enabled', 'user', sub],
    ['user.updated', 'user', sub],
    ['user.deleted', 'user', sub],
    ['initial_access_token.created', 'initial_access_token', iat.body.id],
    ['key.rotated', 'key', undefined],
  ] as const
  for (const [type, targetType, targetId] of expect) {
    const event = seen.find((e) => e.type === type && (targetId === undefined || e.target?.id === targetId))
    t.ok(event, type)
    t.same(event?.actor, { type: 'client', id: 'admin-bot' }, `${type}: the administrator`)
    t.equal(event?.target?.type, targetType)
    t.equal(event?.outcome, 'success')
    t.match(event?.request_id, /\S/)
    t.equal(event?.source_ip, '127.0.0.1')
  }
  t.same(seen.find((e) => e.type === 'client.updated')?.details?.fields, ['name', 'scopes'], 'names, not values')
})

t.test('security events: sign-in, failure, lockout, reuse, revocation', async (t) => {
  const ok = await password('alice', USER_PASSWORD)
  t.equal(ok.statusCode, 200)
  const signedIn = await eventually('user.signed_in', (e) => e.target?.name === 'alice')
  t.equal(signedIn?.actor.type, 'user')
  t.equal(signedIn?.actor.client_id, 'web')
  t.equal(signedIn?.details?.method, 'password')

  const wrong = 'not-the-password-1'
  keep(wrong)
  for (let i = 0; i < 3; i++) await password('carol', wrong)
  const failed = await eventually('user.sign_in_failed', (e) => e.target?.name === 'carol')
  t.equal(failed?.outcome, 'failure')
  t.equal(failed?.actor.type, 'anonymous')
  t.equal(failed?.details?.reason, 'bad_credentials')
  t.ok(await eventually('user.locked_out', (e) => e.target?.name === 'carol'), 'the lockout')
  await password('nobody-at-all', wrong)
  const unknown = await eventually('user.sign_in_failed', (e) => e.details?.reason === 'unknown_user')
  t.notOk(unknown?.target, 'a username nobody has is not recorded')

  const first = ok.json()
  keep(first.access_token)
  keep(first.refresh_token)
  const refreshed = await password('alice', USER_PASSWORD)
  keep(refreshed.json().refresh_token)
  const rotate = (token: string) =>
    app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: token }),
    })
  const next = await rotate(first.refresh_token)
  keep(next.json().refresh_token)
  keep(next.json().access_token)
  clock.now += 1_000
  t.equal((await rotate(first.refresh_token)).statusCode, 400, 'reuse')
  const reuse = await eventually('refresh_token.reused')
  t.same(reuse?.actor, { type: 'client', id: 'web' })
  t.equal(reuse?.target?.type, 'session')

  const service = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('service', SERVICE_SECRET) },
    payload: form({ grant_type: 'client_credentials' }),
  })
  const serviceToken = service.json().access_token as string
  keep(serviceToken)
  await app.inject({
    method: 'POST',
    url: '/oauth/revoke',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('service', SERVICE_SECRET) },
    payload: form({ token: serviceToken }),
  })
  const revoked = await eventually('access_token.revoked')
  t.same(revoked?.actor, { type: 'client', id: 'service' })
  await app.inject({
    method: 'POST',
    url: '/oauth/revoke',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ token: refreshed.json().refresh_token, client_id: 'web' }),
  })
  const ended = await eventually('session.revoked', (e) => e.details?.reason === 'revoked')
  t.same(ended?.actor, { type: 'client', id: 'web' })
})

t.test('no event and no log line holds a secret, a token or a password', async (t) => {
  const all = JSON.stringify(await events())
  const lines = JSON.stringify(logs)
  t.ok(
    logs.some((l) => (l.audit as { type?: string } | undefined)?.type === 'client.created'),
    'events are logged',
  )
  for (const secret of secrets) {
    t.notOk(all.includes(secret), `events: ${secret.slice(0, 6)}…`)
    t.notOk(lines.includes(secret), `logs: ${secret.slice(0, 6)}…`)
  }
})

t.test('queries: by type (exact or prefix), actor, target, time; newest first, in pages', async (t) => {
  const users = await events('&type=user.*')
  t.ok(users.length > 0 && users.every((e) => e.type.startsWith('user.')))
  const two = await events('&type=client.created,key.rotated')
  t.same([...new Set(two.map((e) => e.type))].sort(), ['client.created', 'key.rotated'])
  const byActor = await events('&actor=admin-bot')
  t.ok(byActor.length > 5 && byActor.every((e) => e.actor.id === 'admin-bot'))
  t.same(await events('&actor=client:admin-bot'), byActor, 'or by label')
  const byTarget = await events('&target=audited')
  t.ok(byTarget.every((e) => e.target?.id === 'audited'))
  const all = await events()
  t.same(
    all.map((e) => e.id),
    [...all.map((e) => e.id)].sort((a, b) => {
      const [am = 0, as = 0] = a.split('-').map(Number)
      const [bm = 0, bs = 0] = b.split('-').map(Number)
      return bm - am || bs - as
    }),
    'newest first',
  )
  const paged: string[] = []
  let cursor = ''
  for (let i = 0; i < 100; i++) {
    const res = await call('GET', `/admin/v1/audit-events?limit=4${cursor}`, auditor)
    paged.push(...(res.body.items as Event[]).map((e) => e.id))
    if (res.body.next_cursor === null) break
    cursor = `&cursor=${res.body.next_cursor}`
  }
  t.same(
    paged,
    all.map((e) => e.id),
    'pages add up to the whole log, each event once',
  )
  const future = new Date(clock.now + 60_000).toISOString()
  t.same(await events(`&since=${future}`), [])
  t.same((await events(`&until=${future}`)).length, all.length)
  t.equal((await call('GET', '/admin/v1/audit-events?since=yesterday', auditor)).status, 400)
  t.equal((await call('GET', '/admin/v1/audit-events?cursor=nope', auditor)).status, 400)
})

t.test('retention: events older than AUDIT_RETENTION are gone', async (t) => {
  const { call: c, botToken: b, clock: ownClock } = await adminServer({ AUDIT_RETENTION: '3600' })
  const token = await b('admin-bot')
  await c('POST', '/admin/v1/keys/rotate', token)
  t.equal(((await c('GET', '/admin/v1/audit-events', token)).body.items as unknown[]).length, 1)
  ownClock.now += 3_601_000
  const later = await b('admin-bot')
  t.same((await c('GET', '/admin/v1/audit-events', later)).body.items, [], 'past the retention')
  await c('POST', '/admin/v1/keys/rotate', later)
  const left = (await c('GET', '/admin/v1/audit-events', later)).body.items as Event[]
  t.same(
    left.map((e) => e.type),
    ['key.rotated'],
    'the new event only',
  )
})

t.test('the stream: live events, resumed after a reconnect from Last-Event-ID without a gap', async (t) => {
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const open = async (headers: Record<string, string> = {}, query = '') => {
    const controller = new AbortController()
    const res = await fetch(`${base}/admin/v1/audit-events/stream${query}`, {
      headers: { authorization: `Bearer ${auditor}`, accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    const received: { id: string; type: string }[] = []
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }))
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end >= 0) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const id = /^id: (.+)$/m.exec(frame)?.[1]
          const data = /^data: (.+)$/m.exec(frame)?.[1]
          if (id && data) received.push({ id, type: (JSON.parse(data) as Event).type })
          end = buffer.indexOf('\n\n')
        }
      }
    })()
    return { res, received, close: () => controller.abort(), pump }
  }
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 300 && !done(); i++) await new Promise((r) => setTimeout(r, 10))
  }

  t.equal((await fetch(`${base}/admin/v1/audit-events/stream`)).status, 401)
  const first = await open()
  t.equal(first.res.status, 200)
  t.match(first.res.headers.get('content-type'), /^text\/event-stream/)
  await call('POST', '/admin/v1/keys/rotate', admin)
  await call('POST', '/admin/v1/users', admin, { username: 'olga' })
  await until(() => first.received.length >= 2)
  t.same(
    first.received.map((e) => e.type),
    ['key.rotated', 'user.created'],
    'only new events, live',
  )
  first.close()
  const lastSeen = first.received.at(-1)?.id as string

  // While nobody listens, more happens.
  await call('POST', '/admin/v1/users', admin, { username: 'pete' })
  await call('POST', '/admin/v1/keys/rotate', admin)
  const resumed = await open({ 'last-event-id': lastSeen })
  await call('POST', '/admin/v1/users', admin, { username: 'quinn' })
  await until(() => resumed.received.length >= 3)
  t.same(
    resumed.received.map((e) => e.type),
    ['user.created', 'key.rotated', 'user.created'],
    'the missed events first, then the live one: no gap, no repeat',
  )
  const all = (await events()).map((e) => e.id)
  t.ok(resumed.received.every((e) => all.includes(e.id)))
  resumed.close()

  const filtered = await open({}, '?type=key.*')
  await call('POST', '/admin/v1/users', admin, { username: 'rita' })
  await call('POST', '/admin/v1/keys/rotate', admin)
  await until(() => filtered.received.length >= 1)
  await new Promise((r) => setTimeout(r, 50))
  t.same(
    filtered.received.map((e) => e.type),
    ['key.rotated'],
    'filters apply to the stream',
  )
  filtered.close()
  const denied = await fetch(`${base}/admin/v1/audit-events/stream`, {
    headers: { authorization: `Bearer ${await botToken('clients-bot')}` },
  })
  t.equal(denied.status, 403)
})

t.test(
  'a store that cannot answer: 503 with Retry-After for queries and the stream, never an empty stream',
  async (t) => {
    const { MemoryStore } = await import('../../src/store/memory/memory-store.js')
    const { StoreUnavailableError } = await import('../../src/errors.js')
    const store = new MemoryStore()
    const down = await adminServer({}, { store })
    const token = await down.botToken('admin-bot')
    store.readAudit = async () => {
      throw new StoreUnavailableError('Redis is not answering')
    }
    for (const url of ['/admin/v1/audit-events', '/admin/v1/audit-events/stream']) {
      const res = await down.call('GET', url, token)
      t.equal(res.status, 503, url)
      t.equal(res.body.error, 'temporarily_unavailable')
      t.ok(res.headers['retry-after'])
    }
  },
)
