// Keys rotated twice under continuous load: tokens issued and verified throughout, zero failed verifications.
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { SERVICE, tokenRequest } from '../support/fixtures.js'
import { runLoad, sleep, tollgate } from '../support/load.js'
import type { Service } from '../support/services.js'

// The relation the product relies on: a new key is published this long before it signs, which must exceed how long
// an instance takes to see it (KEYS_RELOAD_INTERVAL) plus how long a verifier may keep an older JWKS
// (JWKS_CACHE_MAX_AGE). Three times that, so a loaded machine's late timers still fit.
const RELOAD_S = 1
const CACHE_S = 1
const PUBLISH_DELAY = 3 * (RELOAD_S + CACHE_S)
// The verifier refreshes its JWKS every second in the background but may refetch for an unknown kid only once an
// hour: verification can only keep working if every key is published before it signs.
const stack = await startE2e(t, {
  redis: false,
  api: { env: { JWKS_CACHE_MAX_AGE: String(CACHE_S), JWKS_COOLDOWN: '3600' } },
  env: { KEY_PUBLISH_DELAY: String(PUBLISH_DELAY), KEYS_RELOAD_INTERVAL: String(RELOAD_S) },
})
const { issuer, keysDir } = stack
const api = stack.api as Service

t.test('two staged rotations under load: zero failed verifications', async (t) => {
  const kids: string[] = []
  const failures: string[] = []
  let done = false
  const giveUpAt = Date.now() + 90_000
  /** Resolves once tokens signed by `count` different keys have been seen (the load loop records them). */
  const signedBy = async (count: number) => {
    while (kids.length < count && Date.now() < giveUpAt) await sleep(100)
  }
  const rotate = async () => {
    const res = await tollgate(['keys', 'rotate'], { KEYS_DIR: keysDir, KEY_PUBLISH_DELAY: String(PUBLISH_DELAY) })
    t.equal(res.code, 0, res.stderr)
  }
  // Each rotation waits for the previous key to have signed, not for a guess at how long that takes.
  const rotations = (async () => {
    await signedBy(1)
    await sleep(1_000)
    await rotate()
    await signedBy(2)
    await rotate()
    await signedBy(3)
    await sleep(2_000)
    done = true
  })()
  const load = runLoad(
    4,
    120_000,
    async () => {
      const { status, body } = await tokenRequest(
        `${issuer}/oauth/token`,
        { grant_type: 'client_credentials' },
        SERVICE,
      )
      if (status !== 200) {
        failures.push(`token ${status}`)
        return `token ${status}`
      }
      const token = body.access_token as string
      const kid = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid as string
      if (!kids.includes(kid)) kids.push(kid)
      const res = await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${token}` } })
      if (res.status !== 200) failures.push(`verify ${res.status} ${res.headers.get('www-authenticate')}`)
      return String(res.status)
    },
    100_000,
    () => done,
  )
  await rotations
  const { total } = await load
  t.same(failures, [], `no failure in ${total} issue+verify rounds`)
  t.ok(total > 200, `${total} rounds`)
  t.equal(kids.length, 3, 'tokens were signed by three keys in turn')

  const list = await tollgate(['--json', 'keys', 'list'], { KEYS_DIR: keysDir })
  const states = (JSON.parse(list.stdout) as { state: string }[]).map((k) => k.state)
  t.same(states, ['verifying', 'verifying', 'active'], 'older keys stay published while their tokens may live')
})
