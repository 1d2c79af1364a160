// Keys rotated twice under continuous load: tokens issued and verified throughout, zero failed verifications.
import t from 'tap'
import { bootstrapDir, SERVICE, tokenRequest } from '../support/fixtures.js'
import { runLoad, sleep, tollgate } from '../support/load.js'
import { freePort } from '../support/ports.js'
import { startAuthServer, startResourceApi } from '../support/services.js'

const PUBLISH_DELAY = 3
const apiPort = await freePort()
const audience = `http://127.0.0.1:${apiPort}`
const { file, keysDir } = await bootstrapDir(audience)
const authPort = await freePort()
const issuer = `http://127.0.0.1:${authPort}`
const auth = await startAuthServer({
  port: authPort,
  env: {
    ISSUER: issuer,
    BOOTSTRAP_FILE: file,
    KEYS_DIR: keysDir,
    REDIS_URL: undefined,
    KEY_PUBLISH_DELAY: String(PUBLISH_DELAY),
    KEYS_RELOAD_INTERVAL: '1',
  },
})
t.teardown(() => auth.stop())
// The verifier refreshes its JWKS every second in the background but may refetch for an unknown kid only once an
// hour: verification can only keep working if every key is published before it signs.
const api = await startResourceApi({
  port: apiPort,
  env: { ISSUER: issuer, AUDIENCE: audience, JWKS_CACHE_MAX_AGE: '1', JWKS_COOLDOWN: '3600' },
})
t.teardown(() => api.stop())

t.test('two staged rotations under load: zero failed verifications', async (t) => {
  const kids = new Set<string>()
  const failures: string[] = []
  const rotations = (async () => {
    await sleep(2_000)
    const first = await tollgate(['keys', 'rotate'], { KEYS_DIR: keysDir, KEY_PUBLISH_DELAY: String(PUBLISH_DELAY) })
    t.equal(first.code, 0, first.stderr)
    await sleep(6_000)
    const second = await tollgate(['keys', 'rotate'], { KEYS_DIR: keysDir, KEY_PUBLISH_DELAY: String(PUBLISH_DELAY) })
    t.equal(second.code, 0, second.stderr)
  })()
  const load = await runLoad(4, 15_000, async () => {
    const { status, body } = await tokenRequest(`${issuer}/oauth/token`, { grant_type: 'client_credentials' }, SERVICE)
    if (status !== 200) {
      failures.push(`token ${status}`)
      return `token ${status}`
    }
    const token = body.access_token as string
    kids.add(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid)
    const res = await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${token}` } })
    if (res.status !== 200) failures.push(`verify ${res.status} ${res.headers.get('www-authenticate')}`)
    return String(res.status)
  })
  await rotations
  t.same(failures, [], `no failure in ${load.total} issue+verify rounds`)
  t.ok(load.total > 200, `${load.total} rounds`)
  t.equal(kids.size, 3, 'tokens were signed by three keys in turn')

  const list = await tollgate(['--json', 'keys', 'list'], { KEYS_DIR: keysDir })
  const states = (JSON.parse(list.stdout) as { state: string }[]).map((k) => k.state)
  t.same(states, ['verifying', 'verifying', 'active'], 'older keys stay published while their tokens may live')
})
