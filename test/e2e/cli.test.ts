// The `tollgate` admin CLI against a real redis-server, with the real auth server reading what it wrote.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { CLIENT_CACHE_TTL_MS } from '../../packages/auth-server/src/clients/cache.js'
import { tokenRequest } from '../support/fixtures.js'
import { tollgate } from '../support/load.js'
import { startRedis } from '../support/redis.js'
import { startAuthServer } from '../support/services.js'

const redis = await startRedis()
t.teardown(() => redis.stop())
const keysDir = path.join(await mkdtemp(path.join(tmpdir(), 'tollgate-cli-')), 'keys')
const AUDIENCE = 'https://orders.example'
const env = { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, KEYS_DIR: keysDir }
const cli = (args: string[], input?: string) => tollgate(args, env, input)
const json = async (args: string[], input?: string) => {
  const result = await cli([...args, '--json'], input)
  if (result.code !== 0) throw new Error(`tollgate ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

// Records written before the server starts: the server finds them in Redis, nothing else carries them over.
const service = await json([
  'clients',
  'add',
  'billing-svc',
  '--grant',
  'client_credentials',
  '--scope',
  'orders:read',
  '--audience',
  AUDIENCE,
])
const APP_SECRET = 'app-secret-from-stdin-0123456789abcdefghijkl'
await json(
  [
    'clients',
    'add',
    'mobile-bff',
    '--grant',
    'password',
    '--grant',
    'refresh_token',
    '--scope',
    'orders:read',
    '--audience',
    AUDIENCE,
    '--secret-stdin',
  ],
  `${APP_SECRET}\n`,
)
const APP = { id: 'mobile-bff', secret: APP_SECRET }
const ALICE_PASSWORD = 'correct horse battery staple'
const alice = await json(['users', 'add', 'alice', '--password-stdin', '--email', 'alice@example.com'], ALICE_PASSWORD)
const bob = await json(['users', 'add', 'bob'])

const auth = await startAuthServer({ env: { ...env, ISSUER: 'http://127.0.0.1' } })
t.teardown(() => auth.stop())
const tokenUrl = `${auth.url}/oauth/token`
const login = (username: string, password: string) =>
  tokenRequest(tokenUrl, { grant_type: 'password', username, password, scope: 'orders:read' }, APP)

t.test('clients add generates a secret, prints it once, and the server accepts it', async (t) => {
  t.match(service.client_secret, /^[A-Za-z0-9_-]{43}$/)
  const { status, body } = await tokenRequest(
    tokenUrl,
    { grant_type: 'client_credentials' },
    { id: 'billing-svc', secret: service.client_secret },
  )
  t.equal(status, 200)
  t.equal(body.scope, 'orders:read')
  const list = await json(['clients', 'list'])
  t.same(list.map((c: { client_id: string }) => c.client_id).sort(), ['billing-svc', 'mobile-bff'])
  t.notMatch(JSON.stringify(list), service.client_secret, 'list never shows a secret')
  t.notMatch(JSON.stringify(list), APP_SECRET)
})

t.test('users add: a password from stdin, or a generated one printed once', async (t) => {
  t.equal(alice.username, 'alice')
  t.notOk('password' in alice, 'a password given on stdin is not echoed')
  t.match(bob.password, /^[A-Za-z0-9_-]{43}$/)
  t.equal((await login('alice', ALICE_PASSWORD)).status, 200)
  t.equal((await login('bob', bob.password)).status, 200)
  const users = await json(['users', 'list'])
  t.same(
    users.map((u: { username: string }) => u.username),
    ['alice', 'bob'],
  )
  t.notMatch(JSON.stringify(users), /argon2/, 'no password hashes')
  const human = await cli(['users', 'list'])
  t.match(human.stdout, /^USERNAME\s+SUB/)
})

t.test('sessions list and sessions revoke --user end a user’s refresh tokens', async (t) => {
  const first = await login('alice', ALICE_PASSWORD)
  const second = await login('alice', ALICE_PASSWORD)
  const bobs = await login('bob', bob.password)
  const sessions = await json(['sessions', 'list', '--user', 'alice'])
  t.ok(sessions.length >= 2)
  t.ok(sessions.every((s: { client_id: string }) => s.client_id === 'mobile-bff'))

  const one = await json(['sessions', 'revoke', '--user', 'alice', '--session', sessions[0].id])
  t.equal(one.sessionsEnded, 1)
  const revoked = await json(['sessions', 'revoke', '--user', 'alice'])
  t.equal(revoked.sessionsEnded, sessions.length - 1)
  for (const session of [first, second]) {
    const refresh = await tokenRequest(
      tokenUrl,
      { grant_type: 'refresh_token', refresh_token: session.body.refresh_token as string },
      APP,
    )
    t.equal(refresh.status, 400)
    t.equal(refresh.body.error, 'invalid_grant')
  }
  t.same(await json(['sessions', 'list', '--user', 'alice']), [])
  const other = await tokenRequest(
    tokenUrl,
    { grant_type: 'refresh_token', refresh_token: bobs.body.refresh_token as string },
    APP,
  )
  t.equal(other.status, 200, 'other users keep their sessions')
})

t.test('users set-password replaces the password and ends sessions', async (t) => {
  const session = await login('bob', bob.password)
  const NEW = 'a brand new password for bob'
  const changed = await json(['users', 'set-password', 'bob', '--password-stdin'], NEW)
  t.ok(changed.sessionsEnded >= 1)
  t.equal((await login('bob', bob.password)).body.error, 'invalid_grant', 'the old password stops working')
  t.equal((await login('bob', NEW)).status, 200)
  const refresh = await tokenRequest(
    tokenUrl,
    { grant_type: 'refresh_token', refresh_token: session.body.refresh_token as string },
    APP,
  )
  t.equal(refresh.body.error, 'invalid_grant')
})

t.test('users disable refuses logins and ends sessions; enable restores them', async (t) => {
  const session = await login('alice', ALICE_PASSWORD)
  t.equal(session.status, 200)
  const disabled = await json(['users', 'disable', 'alice'])
  t.equal(disabled.disabled, true)
  t.equal(disabled.sessionsEnded, 1)
  t.equal((await login('alice', ALICE_PASSWORD)).body.error, 'invalid_grant')
  await json(['users', 'enable', 'alice'])
  t.equal((await login('alice', ALICE_PASSWORD)).status, 200)
})

t.test('clients remove: the client’s secret stops working once instances drop their cached copy', async (t) => {
  const removed = await json(['clients', 'remove', 'billing-svc'])
  t.same(removed, { client_id: 'billing-svc', removed: true })
  t.same(
    (await json(['clients', 'list'])).map((c: { client_id: string }) => c.client_id),
    ['mobile-bff'],
  )
  // The server caches a client for CLIENT_CACHE_TTL_MS: ask until the cached copy is gone, bounded by a multiple of it
  // (a busy machine may be slow to answer, never slow to expire).
  const attempt = () =>
    tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, { id: 'billing-svc', secret: service.client_secret })
  const deadline = Date.now() + 4 * CLIENT_CACHE_TTL_MS
  let answer = await attempt()
  while (answer.status === 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, CLIENT_CACHE_TTL_MS / 20))
    answer = await attempt()
  }
  const { status, body } = answer
  t.equal(status, 401)
  t.equal(body.error, 'invalid_client')
})

t.test('keys rotate and keys list in the same KEYS_DIR the server uses', async (t) => {
  const before = await json(['keys', 'list'])
  t.equal(before.length, 1)
  t.equal(before[0].state, 'active')
  const rotated = await json(['keys', 'rotate'])
  t.equal(rotated.state, 'pending')
  const after = await json(['keys', 'list'])
  t.same(after.map((k: { state: string }) => k.state).sort(), ['active', 'pending'])
})

t.test('mistakes get one clear line and a non-zero exit code', async (t) => {
  const exists = await cli(['users', 'add', 'alice', '--password-stdin'], 'another password')
  t.equal(exists.code, 1)
  t.equal(exists.stderr, 'tollgate: user "alice" exists\n')

  const short = await cli(['users', 'add', 'carol', '--password-stdin'], 'short')
  t.equal(short.code, 1)
  t.match(short.stderr, /password must be 8-1024 characters/)
  t.notMatch(short.stderr, /short\b(?! )/, 'the password is not echoed')

  const weak = await cli(
    ['clients', 'add', 'x-svc', '--grant', 'client_credentials', '--audience', AUDIENCE, '--secret-stdin'],
    'tooshort',
  )
  t.equal(weak.code, 1)
  t.match(weak.stderr, /client_secret must be at least 32 characters/)
  t.notMatch(weak.stderr, /tooshort/)

  const missing = await cli(['sessions', 'list', '--user', 'nobody'])
  t.equal(missing.code, 1)
  t.equal(missing.stderr, 'tollgate: no user "nobody"\n')

  const usage = await cli(['users', 'frobnicate'])
  t.equal(usage.code, 2, 'usage mistakes exit 2')

  const noRedis = await tollgate(['users', 'list'], { KEYS_DIR: keysDir, REDIS_URL: undefined })
  t.equal(noRedis.code, 1)
  t.match(noRedis.stderr, /REDIS_URL .* is not set/)

  const down = await tollgate(['users', 'list'], { KEYS_DIR: keysDir, REDIS_URL: 'redis://127.0.0.1:1' })
  t.equal(down.code, 1)
  t.match(down.stderr, /^tollgate: /)
})

t.test('clients add --exchange-from/--exchange-to: a client that exchanges user tokens (RFC 8693)', async (t) => {
  const added = await json([
    'clients',
    'add',
    'orders-edge',
    '--grant',
    'client_credentials',
    '--scope',
    'orders:read',
    '--audience',
    AUDIENCE,
    '--exchange-from',
    AUDIENCE,
    '--exchange-to',
    'https://stock.example',
  ])
  t.ok(added.grant_types.includes('urn:ietf:params:oauth:grant-type:token-exchange'), 'the flags imply the grant')
  t.same(added.token_exchange, { subject_audiences: [AUDIENCE], audiences: ['https://stock.example'] })
  const user = await login('alice', ALICE_PASSWORD)
  const exchanged = await tokenRequest(
    tokenUrl,
    {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: user.body.access_token as string,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    },
    { id: 'orders-edge', secret: added.client_secret },
  )
  t.equal(exchanged.status, 200, JSON.stringify(exchanged.body))
  const claims = JSON.parse(
    Buffer.from((exchanged.body.access_token as string).split('.')[1] as string, 'base64url').toString(),
  )
  t.match(claims, { aud: 'https://stock.example', act: { sub: 'orders-edge' }, client_id: 'orders-edge' })

  const listed = (await json(['clients', 'list'])).find((c: { client_id: string }) => c.client_id === 'orders-edge')
  t.same(listed.exchange_to, ['https://stock.example'])

  const bad = await cli([
    'clients',
    'add',
    'bad-edge',
    '--grant',
    'client_credentials',
    '--audience',
    AUDIENCE,
    '--exchange-from',
    AUDIENCE,
    '--exchange-to',
    'stock',
  ])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /token_exchange\.audiences: "stock" is not an absolute URI/)
  const half = await cli([
    'clients',
    'add',
    'half-edge',
    '--grant',
    'client_credentials',
    '--audience',
    AUDIENCE,
    '--exchange-from',
    AUDIENCE,
  ])
  t.equal(half.code, 1)
  t.match(half.stderr, /token_exchange\.audiences must list at least one resource URI/)
})

t.test('clients add --jwks-file / --federated-identity: clients without a secret', async (t) => {
  const { generateKeyPairSync, randomBytes, sign } = await import('node:crypto')
  const { writeFile } = await import('node:fs/promises')
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwksFile = path.join(path.dirname(keysDir), 'orders-key.json')
  await writeFile(jwksFile, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'orders-1' }] }))
  const added = await json([
    'clients',
    'add',
    'keyed-svc',
    '--grant',
    'client_credentials',
    '--scope',
    'orders:read',
    '--audience',
    AUDIENCE,
    '--jwks-file',
    jwksFile,
  ])
  t.equal(added.client_secret, undefined, 'no secret generated for a client with a key')
  t.equal(added.jwks.keys[0].kid, 'orders-1')
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'ES256', kid: 'orders-1' })}.${b64({
    iss: 'keyed-svc',
    sub: 'keyed-svc',
    aud: 'http://127.0.0.1',
    iat: now,
    exp: now + 60,
    jti: randomBytes(8).toString('hex'),
  })}`
  const assertion = `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
  const { status, body } = await tokenRequest(tokenUrl, {
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  })
  t.equal(status, 200, JSON.stringify(body))
  const listed = (await json(['clients', 'list'])).find((c: { client_id: string }) => c.client_id === 'keyed-svc')
  t.equal(listed.auth, 'private_key_jwt')

  const federated = await cli([
    'clients',
    'add',
    'k8s-svc',
    '--grant',
    'client_credentials',
    '--audience',
    AUDIENCE,
    '--federated-identity',
    'issuer=https://k8s.example,subject=system:serviceaccount:shop:orders',
    '--json',
  ])
  t.equal(federated.code, 0, federated.stderr)
  t.match(federated.stderr, /warning: https:\/\/k8s\.example is not in .*trusted_issuers/)
  t.same(JSON.parse(federated.stdout).federated_identities, [
    { issuer: 'https://k8s.example', subject: 'system:serviceaccount:shop:orders' },
  ])
  const bad = await cli([
    'clients',
    'add',
    'x',
    '--grant',
    'client_credentials',
    '--audience',
    AUDIENCE,
    '--federated-identity',
    'k8s',
  ])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /--federated-identity: must be issuer=<url>,subject=<subject>/)
  const plain = await cli([
    'clients',
    'add',
    'y',
    '--grant',
    'client_credentials',
    '--audience',
    AUDIENCE,
    '--jwks-uri',
    'http://keys.example/jwks',
  ])
  t.equal(plain.code, 1)
  t.match(plain.stderr, /jwks_uri must use https/)
})
