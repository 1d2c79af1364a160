// A real 6-node Redis Cluster (3 masters, 3 replicas): a master SIGKILLed during a refresh/revoke loop costs no
// request a 500 and no user a session; the sessions of that shard live on in its promoted replica.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { BFF, SERVICE, tokenRequest } from '../support/fixtures.js'
import { runLoad, sleep } from '../support/load.js'
import { freePort } from '../support/ports.js'
import { startRedisCluster } from '../support/redis.js'
import { startAuthServer } from '../support/services.js'

const USERS = Array.from({ length: 6 }, (_, i) => ({ username: `user${i}`, password: `password-of-user-${i}` }))
const AUDIENCE = 'https://notes.example'

const cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 })
t.teardown(() => cluster.stop())
const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-failover-'))
const bootstrap = path.join(dir, 'bootstrap.json')
await writeFile(
  bootstrap,
  JSON.stringify({
    clients: [
      {
        client_id: BFF.id,
        client_secret: BFF.secret,
        grant_types: ['password', 'refresh_token'],
        scopes: ['notes:read'],
        audiences: [AUDIENCE],
      },
      {
        client_id: SERVICE.id,
        client_secret: SERVICE.secret,
        grant_types: ['client_credentials'],
        scopes: ['notes:read'],
        audiences: [AUDIENCE],
      },
    ],
    users: USERS,
  }),
)
const port = await freePort()
const issuer = `http://127.0.0.1:${port}`
const auth = await startAuthServer({
  port,
  env: {
    ISSUER: issuer,
    REDIS_CLUSTER_NODES: cluster.nodes,
    REDIS_PREFIX: cluster.prefix,
    BOOTSTRAP_FILE: bootstrap,
    KEYS_DIR: path.join(dir, 'keys'),
  },
})
t.teardown(() => auth.stop())
const tokenUrl = `${issuer}/oauth/token`
const login = (user: (typeof USERS)[number]) =>
  tokenRequest(tokenUrl, { grant_type: 'password', username: user.username, password: user.password }, BFF)
const refresh = (token: string) => tokenRequest(tokenUrl, { grant_type: 'refresh_token', refresh_token: token }, BFF)
const revoke = (token: string) =>
  fetch(`${issuer}/oauth/revoke`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${BFF.id}:${BFF.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }),
  })

t.test('a master SIGKILLed during a refresh/revoke loop: no 500, every session survives', async (t) => {
  const chains: string[] = []
  const subs: string[] = []
  for (const user of USERS) {
    const res = await login(user)
    t.equal(res.status, 200)
    chains.push(res.body.refresh_token as string)
    subs.push((res.body.refresh_token as string).split('.')[0] as string)
  }
  // Kill the master holding the first user's sessions; give its replica time to have everything.
  const victim = await cluster.masterFor(`${cluster.prefix}user:{${subs[0]}}`)
  await sleep(500)

  let killedAt = 0
  const fault = (async () => {
    await sleep(1_500)
    await cluster.kill(victim)
    killedAt = Date.now()
  })()
  const load = await runLoad(USERS.length + 2, 12_000, async (worker) => {
    let status: number
    let error: unknown
    if (worker < USERS.length) {
      // Each worker walks its own user's refresh chain.
      const res = await refresh(chains[worker] as string)
      status = res.status
      error = res.body.error
      if (status === 200) chains[worker] = res.body.refresh_token as string
    } else if (worker === USERS.length) {
      // Sign in and revoke at once: sessions started and ended across the failover.
      const res = await login(USERS[1] as (typeof USERS)[number])
      status = res.status
      error = res.body.error
      if (status === 200) {
        const revoked = await revoke(res.body.refresh_token as string)
        status = revoked.status
        error = status === 200 ? undefined : ((await revoked.json()) as { error?: string }).error
      }
    } else {
      const res = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, SERVICE)
      status = res.status
      error = res.body.error
    }
    if (status === 503) await sleep(100)
    return status === 200 ? '200' : `${status} ${String(error)}`
  })
  await fault
  const seen = Object.fromEntries(load.statuses)
  t.same(
    Object.keys(seen).filter((s) => s !== '200' && s !== '503 temporarily_unavailable'),
    [],
    `only 200 and 503 (${JSON.stringify(seen)})`,
  )
  t.ok(killedAt > 0, 'the master was killed')
  // Worker 0 walks a session on the killed master's shard: its first success after the kill is the recovery.
  const unavailable = load.samples.filter((s) => s.worker === 0 && s.at > killedAt && s.status !== '200')
  const recoveredAt = load.samples.find((s) => s.worker === 0 && s.at > killedAt && s.status === '200')?.at
  t.ok(recoveredAt, 'refreshes on the failed shard succeed again after the failover')
  t.comment(
    `killed master ${victim}; ${load.total} requests ${JSON.stringify(seen)}; the shard's session answered ` +
      `${unavailable.length} × 503 and refreshed again ${(recoveredAt ?? 0) - killedAt} ms after the kill`,
  )

  await cluster.waitHealthy()
  for (const [i, chain] of chains.entries()) {
    const res = await refresh(chain)
    t.equal(res.status, 200, `user${i}'s session still refreshes (${JSON.stringify(res.body.error ?? '')})`)
  }
  t.notOk((await cluster.masters()).includes(victim), 'the replica took over the slots')
})
