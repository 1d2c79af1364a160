// Refresh sessions against a real auth server process and a real redis-server.
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import * as oauth from 'oauth4webapi'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { ALICE, BFF, BOB, tokenRequest } from '../support/fixtures.js'
import { freePort } from '../support/ports.js'
import { startRedis, type TestRedis } from '../support/redis.js'
import { startAuthServer } from '../support/services.js'

const GRACE_S = 2
const stack = await startE2e(t, { audience: 'https://notes.example', env: { REFRESH_REUSE_GRACE: String(GRACE_S) } })
const { issuer, tokenUrl, auth, file, keysDir } = stack
const redis = stack.redis as TestRedis
const issued: string[] = []

const login = async (who = ALICE) => {
  const { status, body } = await tokenRequest(
    tokenUrl,
    { grant_type: 'password', username: who.username, password: who.password, scope: 'notes:read' },
    BFF,
  )
  t.equal(status, 200)
  issued.push(body.refresh_token as string)
  return body.refresh_token as string
}
const refresh = async (token: string) => {
  const res = await tokenRequest(tokenUrl, { grant_type: 'refresh_token', refresh_token: token }, BFF)
  if (typeof res.body.refresh_token === 'string') issued.push(res.body.refresh_token)
  return res
}
const introspect = async (token: string) =>
  (
    await fetch(`${issuer}/oauth/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${BFF.id}:${BFF.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    })
  ).json() as Promise<{ active: boolean }>
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('50 concurrent refreshes with one token: one lineage continues', async (t) => {
  const token = await login()
  const answers = await Promise.all(Array.from({ length: 50 }, () => refresh(token)))
  const statuses = new Set(answers.map((a) => a.status))
  t.ok(
    [...statuses].every((s) => s === 200 || s === 400),
    `statuses ${[...statuses]}`,
  )
  const successors = new Set(answers.filter((a) => a.status === 200).map((a) => a.body.refresh_token))
  t.equal(successors.size, 1, 'every 200 carries the same successor')
  t.ok(answers.filter((a) => a.status === 200).length >= 1)
  const [successor] = [...successors] as string[]
  await sleep(GRACE_S * 1000 + 200)
  t.equal((await introspect(successor!)).active, true, 'the successor is live')
  t.equal((await introspect(token)).active, false, 'the spent token is not')
  t.equal((await refresh(successor!)).status, 200, 'and the lineage continues')
})

t.test('rotation: after the window the old token fails and revokes the family; other sessions live on', async (t) => {
  const a = await login()
  const other = await login()
  const bobs = await login(BOB)
  const a2 = (await refresh(a)).body.refresh_token as string
  await sleep(GRACE_S * 1000 + 200)
  const reuse = await refresh(a)
  t.equal(reuse.status, 400)
  t.equal(reuse.body.error, 'invalid_grant')
  t.equal((await refresh(a2)).status, 400, 'the newest token of the family is revoked too')
  t.equal((await refresh(other)).status, 200, "the user's other session keeps working")
  t.equal((await refresh(bobs)).status, 200, "other users' sessions keep working")
  t.match(auth.output(), /refresh token reuse detected/)
})

t.test('every session key carries a TTL', async (t) => {
  const client = new Redis(redis.url)
  t.teardown(() => client.quit())
  const keys = await client.keys(`${redis.prefix}*`)
  const sessionKeys = keys.filter((k) => k.includes('rt:{') || k.endsWith(':sessions'))
  t.ok(sessionKeys.length > 0)
  for (const key of sessionKeys) t.ok((await client.pttl(key)) > 0, `${key} has a TTL`)
})

t.test('an unmodified oauth4webapi runs password → refresh → revoke → introspect', async (t) => {
  const insecure = { [oauth.allowInsecureRequests]: true }
  const as = await oauth.processDiscoveryResponse(
    new URL(issuer),
    await oauth.discoveryRequest(new URL(issuer), insecure),
  )
  const client: oauth.Client = { client_id: BFF.id }
  const clientAuth = oauth.ClientSecretBasic(BFF.secret)
  const login = await oauth.processGenericTokenEndpointResponse(
    as,
    client,
    await oauth.genericTokenEndpointRequest(
      as,
      client,
      clientAuth,
      'password',
      { username: ALICE.username, password: ALICE.password, scope: 'openid notes:read' },
      insecure,
    ),
  )
  t.type(login.refresh_token, 'string')
  t.type(login.id_token, 'string')
  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, login.refresh_token!, insecure),
  )
  t.not(refreshed.refresh_token, login.refresh_token)
  issued.push(login.refresh_token!, refreshed.refresh_token!)
  const before = await oauth.processIntrospectionResponse(
    as,
    client,
    await oauth.introspectionRequest(as, client, clientAuth, refreshed.refresh_token!, insecure),
  )
  t.equal(before.active, true)
  const accessBefore = await oauth.processIntrospectionResponse(
    as,
    client,
    await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, insecure),
  )
  t.equal(accessBefore.active, true)
  t.equal(accessBefore.client_id, BFF.id)
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token!, insecure),
  )
  const after = await oauth.processIntrospectionResponse(
    as,
    client,
    await oauth.introspectionRequest(as, client, clientAuth, refreshed.refresh_token!, insecure),
  )
  t.equal(after.active, false)
  const access = await oauth.processIntrospectionResponse(
    as,
    client,
    await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, insecure),
  )
  t.equal(access.active, false, 'revoking the session ended its access token too (issue 14)')
})

t.test('a dump of every Redis key and value holds no refresh token in any encoding', async (t) => {
  // Replays within the grace window too, so sealed successors are in the store.
  const token = await login()
  await refresh(token)
  await refresh(token)
  const client = new Redis(redis.url)
  t.teardown(() => client.quit())
  const chunks: Buffer[] = []
  for (const key of await client.keys(`${redis.prefix}*`)) {
    chunks.push(Buffer.from(key))
    const type = await client.type(key)
    if (type === 'string') chunks.push((await client.getBuffer(key)) ?? Buffer.alloc(0))
    if (type === 'hash')
      for (const [f, v] of Object.entries(await client.hgetallBuffer(key))) chunks.push(Buffer.from(f), v)
    if (type === 'set') chunks.push(...(await client.smembersBuffer(key)))
    if (type === 'zset') chunks.push(...(await client.zrangeBuffer(key, 0, -1)))
    chunks.push((await client.dumpBuffer(key)) ?? Buffer.alloc(0))
  }
  const dump = Buffer.concat(chunks)
  t.ok(issued.length >= 10, `${issued.length} refresh tokens issued in this run`)
  for (const token of issued) {
    const secret = token.split('.')[2] as string
    const raw = Buffer.from(secret, 'base64url')
    const forms = [
      Buffer.from(token),
      Buffer.from(secret),
      raw,
      Buffer.from(raw.toString('base64')),
      Buffer.from(raw.toString('hex')),
      Buffer.from(raw.toString('hex').toUpperCase()),
      createHash('sha256').update(token).digest(), // an unsalted full hash would let a dump confirm a guess
      Buffer.from(createHash('sha256').update(token).digest('hex')),
    ]
    for (const form of forms) t.equal(dump.indexOf(form), -1)
  }
})

t.test(
  'store down: grants answer 503 quickly, readiness fails, liveness holds, and it recovers by itself',
  async (t) => {
    const durable = await startRedis({ appendonly: true })
    t.teardown(() => durable.stop())
    const p = await freePort()
    const iss = `http://127.0.0.1:${p}`
    const server = await startAuthServer({
      port: p,
      env: { ISSUER: iss, REDIS_URL: durable.url, REDIS_PREFIX: 'tg:', BOOTSTRAP_FILE: file, KEYS_DIR: keysDir },
    })
    t.teardown(() => server.stop())
    const url = `${iss}/oauth/token`
    const { body } = await tokenRequest(
      url,
      { grant_type: 'password', username: ALICE.username, password: ALICE.password },
      BFF,
    )
    const token = body.refresh_token as string

    await durable.kill()
    const attempts: Record<string, string>[] = [
      { grant_type: 'refresh_token', refresh_token: token },
      { grant_type: 'password', username: ALICE.username, password: ALICE.password },
    ]
    for (const fields of attempts) {
      const started = Date.now()
      const res = await tokenRequest(url, fields, BFF)
      t.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`)
      t.equal(res.status, 503)
      t.equal(res.body.error, 'temporarily_unavailable')
      t.notOk('refresh_token' in res.body)
    }
    t.equal((await fetch(`${iss}/readyz`)).status, 503)
    t.equal((await fetch(`${iss}/healthz`)).status, 200)

    await durable.restart()
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if ((await fetch(`${iss}/readyz`)).status === 200) break
      await sleep(100)
    }
    t.equal((await fetch(`${iss}/readyz`)).status, 200, 'ready again without a restart')
    const again = await tokenRequest(url, { grant_type: 'refresh_token', refresh_token: token }, BFF)
    t.equal(again.status, 200, 'the session from before the outage still refreshes (AOF)')
    const fresh = await tokenRequest(
      url,
      { grant_type: 'password', username: ALICE.username, password: ALICE.password },
      BFF,
    )
    t.equal(fresh.status, 200)
  },
)
