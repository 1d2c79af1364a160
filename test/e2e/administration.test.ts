// "Administration over HTTP" (SPEC) with real processes and a real Redis: an unmodified openid-client registers a
// client with an initial access token from the CLI and gets a token for it; RFC 7592 with and without the
// registration access token; the admin API refuses tokens without the scope and non-administrators, and stale
// ETags; disabling a user ends their sessions at the resource API within a second; an audit event for each kind,
// with the right actor and no secret in any event or log line; the live stream resumes without a gap; a second
// auth-server instance sees the same audit log.
import { userInfo } from 'node:os'
import { AdminApiError, AdminClient } from '@tollgate/shared'
import * as oidc from 'openid-client'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { ALICE, BFF, BOB, SERVICE, tokenRequest } from '../support/fixtures.js'
import { sleep, tollgate } from '../support/load.js'
import type { TestRedis } from '../support/redis.js'
import { type Service, startAuthServer } from '../support/services.js'

const stack = await startE2e(t, {
  api: true,
  env: { LOG_LEVEL: 'info', LOGIN_MAX_FAILURES: '3', REFRESH_REUSE_GRACE: '0' },
})
const { issuer, tokenUrl, audience } = stack
const api = stack.api as Service
const redis = stack.redis as TestRedis
const cliEnv = { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, KEYS_DIR: stack.keysDir }
const cli = async (args: string[]) => {
  const result = await tollgate([...args, '--json'], cliEnv)
  if (result.code !== 0) throw new Error(`tollgate ${args.join(' ')}: ${result.stderr}`)
  return JSON.parse(result.stdout) as Record<string, string>
}
const OPERATOR = `operator:${userInfo().username}`

/** Every secret the test creates or sees: none may reach an audit event or a log line. */
const secrets = new Set<string>([SERVICE.secret, BFF.secret, ALICE.password, BOB.password])
const keep = (...values: unknown[]) => {
  for (const v of values) if (typeof v === 'string' && v.length >= 8) secrets.add(v)
}

// The platform team's automation client, made by an operator with the CLI (an audited change).
const ops = await cli([
  'clients',
  'add',
  'ops-admin',
  '--grant',
  'client_credentials',
  '--scope',
  'tollgate:admin',
  '--audience',
  issuer,
])
keep(ops.client_secret)
const OPS = { id: 'ops-admin', secret: ops.client_secret as string }
const opsToken = async () => {
  const res = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, OPS)
  keep(res.body.access_token)
  return res.body.access_token as string
}
const adminCall = async (method: string, path: string, token: string, body?: unknown, headers = {}) => {
  const res = await fetch(`${issuer}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> }
}
type Event = { id: string; type: string; actor: { type: string; id?: string }; target?: { id: string } }
const auditEvents = async (query = '', base = issuer): Promise<Event[]> => {
  const res = await fetch(`${base}/admin/v1/audit-events?limit=200${query}`, {
    headers: { authorization: `Bearer ${await opsToken()}` },
  })
  return ((await res.json()) as { items: Event[] }).items
}
const eventually = async (type: string, match: (e: Event) => boolean = () => true) => {
  for (let i = 0; i < 100; i++) {
    const found = (await auditEvents(`&type=${type}`)).find(match)
    if (found) return found
    await sleep(20)
  }
  return undefined
}

t.test('openid-client registers a client with an initial access token from the CLI, then gets a token', async (t) => {
  const initial = await cli(['registration-tokens', 'create', '--max-uses', '1', '--description', 'orders pipeline'])
  keep(initial.token)
  t.match(initial.token, /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/)
  const config = await oidc.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: 'orders pipeline',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'notes:read',
      audiences: [audience],
    },
    undefined,
    { initialAccessToken: initial.token, execute: [oidc.allowInsecureRequests] },
  )
  const registered = config.clientMetadata()
  keep(registered.client_secret, registered.registration_access_token)
  t.type(registered.client_id, 'string')
  t.type(registered.registration_access_token, 'string')
  const tokens = await oidc.clientCredentialsGrant(config)
  keep(tokens.access_token)
  t.equal(tokens.scope, 'notes:read')
  const notes = await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  t.equal(notes.status, 200, 'the new client’s token works at the resource API')
  await t.rejects(
    oidc.dynamicClientRegistration(new URL(issuer), { audiences: [audience] }, undefined, {
      initialAccessToken: initial.token,
      execute: [oidc.allowInsecureRequests],
    }),
    'the token was good for one registration',
  )
  const event = await eventually('client.registered', (e) => e.target?.id === registered.client_id)
  t.same(event?.actor, { type: 'initial_access_token', id: initial.id })

  // RFC 7592, with and without the registration access token.
  const uri = registered.registration_client_uri as string
  const rat = registered.registration_access_token as string
  const manage = (method: string, bearer?: string, body?: unknown) =>
    fetch(uri, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
  for (const method of ['GET', 'PUT', 'DELETE']) {
    t.equal((await manage(method, undefined, method === 'PUT' ? {} : undefined)).status, 401, `${method} without`)
  }
  const read = await manage('GET', rat)
  t.equal(read.status, 200)
  const current = (await read.json()) as Record<string, unknown>
  const put = await manage('PUT', rat, { ...current, client_name: 'orders (renamed)' })
  t.equal(put.status, 200)
  t.equal(((await put.json()) as { client_name: string }).client_name, 'orders (renamed)')
  t.equal((await manage('DELETE', rat)).status, 204)
  t.equal((await manage('GET', rat)).status, 401)
  // Verifiers hear of the removal through the revocation events: within a second.
  const removedAt = Date.now()
  let after = 0
  while (Date.now() - removedAt < 5_000) {
    after = (await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status
    if (after === 401) break
    await sleep(10)
  }
  const elapsed = Date.now() - removedAt
  t.equal(after, 401, 'its token is refused once the client is removed')
  t.ok(elapsed <= 1_000, `within a second (${elapsed} ms)`)
})

t.test('the admin API: scope, administrators, ETags', async (t) => {
  const admin = await opsToken()
  const plain = await adminCall('POST', '/admin/v1/clients', admin, {
    client_id: 'plain-bot',
    grant_types: ['client_credentials'],
    scopes: ['notes:read'],
    audiences: [issuer],
  })
  t.equal(plain.status, 201)
  keep(plain.body.client_secret)
  const plainToken = (
    await tokenRequest(
      tokenUrl,
      { grant_type: 'client_credentials' },
      {
        id: 'plain-bot',
        secret: plain.body.client_secret as string,
      },
    )
  ).body.access_token as string
  keep(plainToken)
  const lacking = await adminCall('GET', '/admin/v1/users', plainToken)
  t.equal(lacking.status, 403, 'a token without the admin scope')
  t.equal(lacking.body.error, 'insufficient_scope')
  t.equal((await adminCall('GET', '/admin/v1/users', '')).status, 401, 'no token')

  const console = await adminCall('POST', '/admin/v1/clients', admin, {
    client_id: 'console',
    public: true,
    grant_types: ['password'],
    scopes: ['openid', 'tollgate:admin'],
    audiences: [issuer],
  })
  t.equal(console.status, 201)
  const userToken = async (who: { username: string; password: string }) => {
    const res = await tokenRequest(tokenUrl, { grant_type: 'password', client_id: 'console', ...who })
    keep(res.body.access_token)
    return res.body as { access_token: string; scope: string }
  }
  const bob = await userToken(BOB)
  t.notMatch(bob.scope, /tollgate:admin/)
  t.equal((await adminCall('GET', '/admin/v1/users', bob.access_token)).status, 403, 'a non-administrator')
  const alice = await userToken(ALICE)
  t.match(alice.scope, /tollgate:admin/)
  t.equal((await adminCall('GET', '/admin/v1/users', alice.access_token)).status, 200, 'an administrator')

  const read = await adminCall('GET', '/admin/v1/clients/plain-bot', admin)
  const etag = read.headers.get('etag') as string
  t.equal(
    (await adminCall('PATCH', '/admin/v1/clients/plain-bot', admin, { name: 'A' }, { 'if-match': etag })).status,
    200,
  )
  const stale = await adminCall('PATCH', '/admin/v1/clients/plain-bot', admin, { name: 'B' }, { 'if-match': etag })
  t.equal(stale.status, 412, 'the second administrator’s stale write')
  t.equal((await adminCall('GET', '/admin/v1/clients/plain-bot', admin)).body.name, 'A')
})

t.test('disabling a user through the API ends their sessions at the resource API within a second', async (t) => {
  const admin = await opsToken()
  const login = await tokenRequest(tokenUrl, { grant_type: 'password', ...BOB }, BFF)
  keep(login.body.access_token, login.body.refresh_token)
  const access = login.body.access_token as string
  const me = () => fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${access}` } })
  t.equal((await me()).status, 200)
  const bob = ((await adminCall('GET', '/admin/v1/users?username=bob', admin)).body.items as { sub: string }[])[0]
  const disabled = await adminCall('PATCH', `/admin/v1/users/${bob?.sub}`, admin, { disabled: true })
  const since = Date.now()
  t.equal(disabled.status, 200)
  t.ok((disabled.body.sessions_ended as number) >= 1)
  let refusedAfter = -1
  while (Date.now() - since < 10_000) {
    if ((await me()).status === 401) {
      refusedAfter = Date.now() - since
      break
    }
    await sleep(5)
  }
  t.ok(refusedAfter >= 0 && refusedAfter <= 1_000, `refused ${refusedAfter} ms after the answer`)
  const refresh = await tokenRequest(
    tokenUrl,
    { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string },
    BFF,
  )
  t.equal(refresh.status, 400, 'the session is gone')
  await adminCall('PATCH', `/admin/v1/users/${bob?.sub}`, admin, { disabled: false })
})

t.test('an audit event for every kind, with the right actor', async (t) => {
  const admin = await opsToken()
  const ok = await tokenRequest(tokenUrl, { grant_type: 'password', ...ALICE }, BFF)
  keep(ok.body.access_token, ok.body.refresh_token)
  const wrong = 'wrong-password-e2e'
  keep(wrong)
  for (let i = 0; i < 3; i++)
    await tokenRequest(tokenUrl, { grant_type: 'password', username: 'bob', password: wrong }, BFF)
  const next = await tokenRequest(
    tokenUrl,
    { grant_type: 'refresh_token', refresh_token: ok.body.refresh_token as string },
    BFF,
  )
  keep(next.body.access_token, next.body.refresh_token)
  await sleep(5)
  t.equal(
    (await tokenRequest(tokenUrl, { grant_type: 'refresh_token', refresh_token: ok.body.refresh_token as string }, BFF))
      .status,
    400,
    'a spent refresh token comes back',
  )
  const revoke = await fetch(`${issuer}/oauth/revoke`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${BFF.id}:${BFF.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: next.body.access_token as string }),
  })
  t.equal(revoke.status, 200)
  t.equal((await adminCall('POST', '/admin/v1/keys/rotate', admin)).status, 201)

  const expected: [string, (e: Event) => boolean, string | RegExp][] = [
    ['user.signed_in', () => true, /^user$/],
    ['user.sign_in_failed', () => true, /^anonymous$/],
    ['user.locked_out', () => true, /^anonymous$/],
    ['refresh_token.reused', () => true, /^client$/],
    ['access_token.revoked', () => true, /^client$/],
    ['key.rotated', () => true, /^client$/],
    ['client.created', (e) => e.target?.id === 'ops-admin', /^operator$/],
    ['client.created', (e) => e.target?.id === 'plain-bot', /^client$/],
    ['client.registered', () => true, /^initial_access_token$/],
    ['client.deleted', () => true, /^client$/],
    ['user.disabled', () => true, /^client$/],
    ['user.tokens_revoked', () => true, /^client$/],
    ['initial_access_token.created', () => true, /^operator$/],
  ]
  for (const [type, match, actor] of expected) {
    const event = await eventually(type, match)
    t.match(event?.actor.type, actor, `${type} by ${event?.actor.type}:${event?.actor.id}`)
  }
  const operatorEvent = await eventually('client.created', (e) => e.target?.id === 'ops-admin')
  t.equal(`${operatorEvent?.actor.type}:${operatorEvent?.actor.id}`, OPERATOR, 'the CLI’s actor is the OS user')
})

t.test('the live stream resumes after a reconnect without losing an event (Redis)', async (t) => {
  const admin = await opsToken()
  const stream = async (lastEventId?: string) => {
    const controller = new AbortController()
    const res = await fetch(`${issuer}/admin/v1/audit-events/stream?type=user.*`, {
      headers: {
        authorization: `Bearer ${admin}`,
        accept: 'text/event-stream',
        ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
      },
      signal: controller.signal,
    })
    const received: { id: string; name: string }[] = []
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let buffer = ''
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }))
        if (done) return
        buffer += new TextDecoder().decode(value)
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const id = /^id: (.+)$/m.exec(frame)?.[1]
          const data = /^data: (.+)$/m.exec(frame)?.[1]
          if (id && data) received.push({ id, name: (JSON.parse(data) as { target: { name: string } }).target.name })
        }
      }
    })()
    return { received, close: () => controller.abort() }
  }
  const create = (username: string) => adminCall('POST', '/admin/v1/users', admin, { username })
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 500 && !done(); i++) await sleep(10)
  }
  const first = await stream()
  await sleep(100)
  await create('sse-1')
  await until(() => first.received.length >= 1)
  first.close()
  await create('sse-2')
  await create('sse-3')
  const second = await stream(first.received.at(-1)?.id)
  await create('sse-4')
  await until(() => second.received.length >= 3)
  t.same(
    [...first.received, ...second.received].map((e) => e.name),
    ['sse-1', 'sse-2', 'sse-3', 'sse-4'],
    'every event once, in order, across the reconnect',
  )
  second.close()
})

t.test('a second auth-server instance sees the same audit log, and streams what the first writes', async (t) => {
  const other = await startAuthServer({ env: { ...stack.env, ISSUER: issuer } })
  t.teardown(() => other.stop())
  const here = (await auditEvents()).map((e) => e.id)
  const there = (await auditEvents('', other.url)).map((e) => e.id)
  t.same(there, here, 'the same events, in the same order')
  const admin = await opsToken()
  const controller = new AbortController()
  const res = await fetch(`${other.url}/admin/v1/audit-events/stream?type=client.*`, {
    headers: { authorization: `Bearer ${admin}` },
    signal: controller.signal,
  })
  t.equal(res.status, 200)
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  let text = ''
  const read = (async () => {
    while (!text.includes('from-instance-1')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
  })()
  await sleep(100)
  const made = await adminCall('POST', '/admin/v1/clients', admin, {
    client_id: 'from-instance-1',
    grant_types: ['client_credentials'],
    audiences: [audience],
  })
  keep(made.body.client_secret)
  await Promise.race([read, sleep(5_000)])
  controller.abort()
  t.match(text, /"type":"client.created".*from-instance-1/, 'instance 2 streams instance 1’s event')
})

t.test('scripts: AdminClient from @tollgate/shared', async (t) => {
  const admin = new AdminClient({ issuer, clientId: OPS.id, clientSecret: OPS.secret })
  const created = await admin.clients.create({
    client_id: 'scripted',
    grant_types: ['client_credentials'],
    scopes: ['notes:read'],
    audiences: [audience],
  })
  keep(created.body.client_secret)
  t.type(created.body.client_secret, 'string')
  const changed = await admin.clients.patch('scripted', { name: 'Scripted' }, created.etag)
  t.equal(changed.body.name, 'Scripted')
  const stale = await admin.clients.patch('scripted', { name: 'Lost' }, created.etag).catch((e: unknown) => e)
  t.ok(stale instanceof AdminApiError && stale.status === 412 && stale.error === 'precondition_failed')
  const err = await admin.clients.get('nope').catch((e: unknown) => e)
  t.ok(err instanceof AdminApiError && err.status === 404)
  const initial = await admin.initialAccessTokens.create({ max_uses: 1, description: 'script' })
  keep(initial.body.token)
  const registered = await AdminClient.register(
    issuer,
    { grant_types: ['client_credentials'], audiences: [audience] },
    { initialAccessToken: initial.body.token },
  )
  keep(registered.client_secret, registered.registration_access_token)
  t.type(registered.client_id, 'string')
  const types = new Set<string>()
  for await (const event of admin.auditEvents.all({ type: 'client.*' })) types.add(event.type as string)
  t.ok(types.has('client.created') && types.has('client.updated') && types.has('client.registered'))
  const clients: string[] = []
  for await (const client of admin.clients.all()) clients.push(client.client_id as string)
  t.ok(clients.includes('scripted') && clients.includes(registered.client_id as string))
})

t.test('no secret, token or password in any audit event or log line', async (t) => {
  const events = JSON.stringify(await auditEvents())
  const logs = stack.auth.output()
  t.match(logs, /"audit":\{/, 'audit events are in the log')
  for (const secret of secrets) {
    t.notOk(events.includes(secret), `events: ${secret.slice(0, 6)}…`)
    t.notOk(logs.includes(secret), `log: ${secret.slice(0, 6)}…`)
  }
})
