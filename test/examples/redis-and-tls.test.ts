// docs/redis-and-tls.md as written: Redis with exactly the page's configuration (AOF, noeviction, a `tollgate` ACL user
// limited to its prefix, `default` off), the auth server on the page's REDIS_URL form: it starts (the eviction check
// may read the policy), issues and rotates tokens, and the CLI reads the same Redis (issue 21).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ALICE, bootstrapDir, SERVICE, tokenRequest, WEB } from '../support/fixtures.js'
import { tollgate } from '../support/load.js'
import { freePort } from '../support/ports.js'
import { startProcess, stopWith } from '../support/processes.js'
import { redisCli } from '../support/redis.js'
import { ROOT, startAuthServer } from '../support/services.js'

const page = await readFile(path.join(ROOT, 'docs/redis-and-tls.md'), 'utf8')
const conf = /```conf\n([\s\S]*?)```/.exec(page)?.[1] ?? ''
const password = /user tollgate on >(\S+)/.exec(conf)?.[1] ?? ''
const documentedUrl = /export REDIS_URL='([^']+)'/.exec(page)?.[1] ?? ''

const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-redis-doc-'))
const port = await freePort()
await writeFile(path.join(dir, 'redis.conf'), `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsave ""\n${conf}`)
const redis = startProcess('redis-server', [path.join(dir, 'redis.conf')])
for (let i = 0; i < 200; i++) {
  if (
    (
      await redisCli(port, '--user', 'tollgate', '--pass', password, '--no-auth-warning', 'ping').catch(() => '')
    ).includes('PONG')
  )
    break
  await new Promise((r) => setTimeout(r, 25))
}
const url = documentedUrl.replace('127.0.0.1:6379', `127.0.0.1:${port}`)
const { file, keysDir } = await bootstrapDir('https://notes.example')
const auth = await startAuthServer({ env: { REDIS_URL: url, BOOTSTRAP_FILE: file, KEYS_DIR: keysDir } })
stopWith(t, { 'redis-server': redis, 'the auth server': auth })

t.test('the page gives a real password and the documented URL form', async (t) => {
  t.ok(password.length >= 20, 'a long password')
  t.match(documentedUrl, /^redis:\/\/tollgate:[^@]+@127\.0\.0\.1:6379$/)
})

t.test('the default user is off: only the tollgate user gets in', async (t) => {
  t.match(await redisCli(port, 'ping').catch((err: Error) => err.message), /NOAUTH|NOPERM|Authentication required/i)
})

t.test('the auth server works on that Redis: tokens, sessions, rotation', async (t) => {
  t.equal((await tokenRequest(`${auth.url}/oauth/token`, { grant_type: 'client_credentials' }, SERVICE)).status, 200)
  const login = await tokenRequest(`${auth.url}/oauth/token`, {
    grant_type: 'password',
    client_id: WEB.id,
    username: ALICE.username,
    password: ALICE.password,
  })
  t.equal(login.status, 200)
  const refreshed = await tokenRequest(`${auth.url}/oauth/token`, {
    grant_type: 'refresh_token',
    client_id: WEB.id,
    refresh_token: login.body.refresh_token as string,
  })
  t.equal(refreshed.status, 200, 'the rotation script runs under the ACL')
  t.notMatch(
    auth.output(),
    /CONFIG not allowed|cannot read Redis maxmemory-policy/,
    'the eviction check could read the policy',
  )
})

t.test('the CLI reads the same variable', async (t) => {
  const listed = await tollgate(['clients', 'list'], { REDIS_URL: url })
  t.equal(listed.code, 0, listed.stderr)
  t.match(listed.stdout, new RegExp(SERVICE.id))
})
