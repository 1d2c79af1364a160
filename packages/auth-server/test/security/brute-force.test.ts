import t from 'tap'
import { startRedis } from '../../../../test/support/redis.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { basic, form, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const redis = await startRedis()
t.teardown(() => redis.stop())

let run = 0
const stores = {
  memory: async () => undefined,
  redis: async () => RedisStore.connect({ url: redis.url, prefix: `${redis.prefix}${run++}:` }),
}

for (const [name, makeStore] of Object.entries(stores)) {
  t.test(`${name}: 60 wrong passwords for one account from one IP`, async (t) => {
    const store = await makeStore()
    if (store) t.teardown(() => store.close())
    const { app, clock } = await testServer({}, store ? { store } : {})
    const attempt = (password: string) =>
      app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: FORM,
        payload: form({ grant_type: 'password', client_id: 'web', username: 'alice', password }),
      })

    let firstLimited = 0
    let lockedAt = 0
    for (let i = 1; i <= 60; i++) {
      const res = await attempt(`wrong-${i}`)
      if (res.statusCode === 429) {
        firstLimited ||= i
        t.equal(res.json().error, 'too_many_requests')
        const wait = Number(res.headers['retry-after'])
        t.ok(wait >= 1, 'Retry-After in seconds')
        if (wait > 60) lockedAt ||= i
        // A patient attacker waits exactly as told, then tries again; the lockout must still hold.
        if (wait <= 60) clock.now += wait * 1000
      } else {
        t.equal(res.statusCode, 400)
        t.equal(res.json().error, 'invalid_grant')
      }
    }
    t.ok(firstLimited > 0 && firstLimited < 20, `the limit engaged at attempt ${firstLimited}`)
    t.ok(lockedAt > 0, `the account was locked (attempt ${lockedAt})`)

    const whileLocked = await attempt(USER_PASSWORD)
    t.equal(whileLocked.statusCode, 429, 'the right password is refused while locked')
    t.notOk('access_token' in whileLocked.json())

    clock.now += 15 * 60 * 1000 + 1000
    const after = await attempt(USER_PASSWORD)
    t.equal(after.statusCode, 200, 'and accepted after the lock window')
    const reset = await attempt('wrong again')
    t.equal(reset.statusCode, 400, 'a successful login reset the account counter')
  })
}

t.test('a locked account cannot be used to sign the user out of a trusted session', async (t) => {
  const { app } = await testServer()
  const login = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'password', client_id: 'web', username: 'alice', password: USER_PASSWORD }),
  })
  let refresh = login.json().refresh_token as string
  for (let i = 0; i < 30; i++) {
    await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: FORM,
      payload: form({ grant_type: 'password', client_id: 'web', username: 'alice', password: 'attacker guess' }),
    })
  }
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: refresh }),
  })
  t.equal(res.statusCode, 200, 'the session still refreshes')
  refresh = res.json().refresh_token
  t.type(refresh, 'string')
})

t.test('the same limits guard the browser login and the sign-in page', async (t) => {
  const { app } = await testServer({ COOKIE_SECURE: 'false' })
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/session/login',
      headers: { 'content-type': 'application/json', origin: 'https://app.test' },
      payload: { client_id: 'spa', username: 'bob-the-target', password: `guess-${i}` },
    })
    statuses.push(res.statusCode)
  }
  t.same(statuses, [400, 400, 400, 429, 429, 429])
})

t.test('unknown usernames are throttled exactly like real ones (no enumeration through the limiter)', async (t) => {
  const { app } = await testServer()
  const run = async (username: string) => {
    const out: number[] = []
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: FORM,
        payload: form({ grant_type: 'password', client_id: 'web', username, password: 'nope' }),
      })
      out.push(res.statusCode)
    }
    return out
  }
  t.same(await run('alice'), await run('no-such-user'))
})

t.test('an IP that fails too often is locked for every account and for client secrets', async (t) => {
  const { app } = await testServer({ LOGIN_IP_MAX_FAILURES: '12' })
  for (let i = 0; i < 12; i++) {
    await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: FORM,
      payload: form({ grant_type: 'password', client_id: 'web', username: `spray-${i}`, password: 'Winter2026!' }),
    })
  }
  const fresh = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'password', client_id: 'web', username: 'alice', password: USER_PASSWORD }),
  })
  t.equal(fresh.statusCode, 429, 'password spraying from one IP is stopped')
  const secret = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, authorization: basic('service', SERVICE_SECRET) },
    payload: form({ grant_type: 'client_credentials' }),
  })
  t.equal(secret.statusCode, 429)
  const other = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, authorization: basic('service', SERVICE_SECRET) },
    payload: form({ grant_type: 'client_credentials' }),
    remoteAddress: '10.0.0.7',
  })
  t.equal(other.statusCode, 200, 'other IPs are not affected')
})

t.test('wrong client secrets count against the IP', async (t) => {
  const { app } = await testServer({ LOGIN_IP_MAX_FAILURES: '5' })
  const statuses: number[] = []
  for (let i = 0; i < 7; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, authorization: basic('service', `wrong-${i}`) },
      payload: form({ grant_type: 'client_credentials' }),
    })
    statuses.push(res.statusCode)
  }
  t.same(statuses, [401, 401, 401, 401, 429, 429, 429], 'the failure that reaches the limit is already answered 429')
})

t.test('the token endpoint has a per-IP rate limit', async (t) => {
  const { app } = await testServer({ TOKEN_RATE_LIMIT: '5' })
  const statuses: number[] = []
  let last: Awaited<ReturnType<typeof app.inject>> | undefined
  for (let i = 0; i < 7; i++) {
    last = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...FORM, authorization: basic('service', SERVICE_SECRET) },
      payload: form({ grant_type: 'client_credentials' }),
    })
    statuses.push(last.statusCode)
  }
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429])
  t.equal(last?.json().error, 'too_many_requests')
  t.ok(Number(last?.headers['retry-after']) >= 1)
})
