// The console at /console (SPEC "The console"): its page for every path below it with the settings it needs and a
// CSP allowing its own files only, hashed assets cached and precompressed, 404 when it is not built, nothing with
// CONSOLE=off; the built-in tollgate-console client (code flow, DPoP, the issuer as audience), whose id nobody else
// may take; GET /admin/v1/sessions, every live session with its user.
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { applyBootstrap } from '../../src/bootstrap.js'
import { SecretHasher } from '../../src/clients/secrets.js'
import { loadConfig } from '../../src/config.js'
import { Keystore } from '../../src/keys/keystore.js'
import { MemoryStore } from '../../src/store/memory/memory-store.js'
import { adminServer } from '../admin-helpers.js'
import { bootstrapDoc, ISSUER } from '../helpers.js'

/** A built console as packages/console/build.mjs lays it out. */
async function builtConsole(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-console-'))
  await mkdir(path.join(dir, 'assets'))
  await writeFile(
    path.join(dir, 'index.html'),
    '<meta name="tollgate-console" content="%SETTINGS%"><script type="module" src="%BASE%/assets/app-ABCDEFGH.js"></script>',
  )
  await writeFile(path.join(dir, 'assets/app-ABCDEFGH.js'), 'console.log(1)')
  await writeFile(path.join(dir, 'assets/app-ABCDEFGH.js.gz'), gzipSync('console.log(1)'))
  await writeFile(path.join(dir, 'assets/favicon.svg'), '<svg/>')
  return dir
}

async function server(env: Record<string, string> = {}, consoleDir?: string) {
  const store = new MemoryStore()
  const secretKey = randomBytes(32)
  await applyBootstrap(bootstrapDoc, store, new SecretHasher(secretKey), Date.now())
  const app = await buildApp({
    config: loadConfig({ ISSUER, ...env }),
    store,
    keystore: await Keystore.open({ dir: undefined }),
    secretKey,
    logger: false,
    ...(consoleDir ? { consoleDir } : {}),
  })
  t.teardown(() => app.close())
  return app
}

t.test('the page: every path below /console/, its settings as data, a CSP for its own files only', async (t) => {
  const app = await server({}, await builtConsole())
  for (const url of ['/console/', '/console/clients/orders', '/console/callback?code=x&state=y']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    t.match(res.headers['content-type'], /^text\/html/)
    t.equal(res.headers['cache-control'], 'no-cache')
    const csp = String(res.headers['content-security-policy'])
    t.match(csp, /default-src 'none'/)
    t.match(csp, /script-src 'self';/)
    t.match(csp, /connect-src 'self' https:\/\/auth\.test;/)
    t.match(csp, /frame-ancestors 'none'/)
    t.notMatch(csp, /unsafe/)
  }
  const page = (await app.inject({ url: '/console/' })).body
  t.match(
    page,
    'content="{&quot;issuer&quot;:&quot;https://auth.test&quot;,&quot;clientId&quot;:&quot;tollgate-console&quot;',
  )
  t.match(page, 'src="/console/assets/app-ABCDEFGH.js"')
  const bare = await app.inject({ url: '/console' })
  t.equal(bare.statusCode, 308)
  t.equal(bare.headers.location, '/console/')
  t.notMatch(JSON.stringify((await app.inject({ url: '/docs/json' })).json().paths), /console/, 'not in the API docs')
})

t.test('assets: hashed ones cached for good, precompressed for who accepts it; unknown names 404', async (t) => {
  const app = await server({}, await builtConsole())
  const plain = await app.inject({ url: '/console/assets/app-ABCDEFGH.js' })
  t.equal(plain.statusCode, 200)
  t.equal(plain.body, 'console.log(1)')
  t.match(plain.headers['content-type'], /^text\/javascript/)
  t.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.equal(plain.headers.vary, 'accept-encoding')
  const gz = await app.inject({ url: '/console/assets/app-ABCDEFGH.js', headers: { 'accept-encoding': 'gzip, br' } })
  t.equal(gz.headers['content-encoding'], 'gzip', 'gzip: no brotli copy here')
  t.equal((await app.inject({ url: '/console/assets/favicon.svg' })).headers['cache-control'], 'public, max-age=3600')
  t.equal((await app.inject({ url: '/console/assets/nope.js' })).statusCode, 404)
  t.equal((await app.inject({ url: '/console/assets/..%2Findex.html' })).statusCode, 404)
})

t.test(
  'a server whose console is not built answers 404 in words; CONSOLE=off has neither page nor client',
  async (t) => {
    const missing = await server({}, path.join(tmpdir(), 'no-such-console'))
    const res = await missing.inject({ url: '/console/' })
    t.equal(res.statusCode, 404)
    t.match(res.json().error_description, /not built/)

    const off = await server({ CONSOLE: 'off' }, await builtConsole())
    t.equal((await off.inject({ url: '/console/' })).statusCode, 404)
    t.equal(await off.ctx.clients.get('tollgate-console'), undefined)
  },
)

t.test('PROFILE=fapi2 allows no public client: the console is off, and asking for it stops startup', async (t) => {
  t.equal(loadConfig({ ISSUER, PROFILE: 'fapi2' }).console, false)
  t.throws(() => loadConfig({ ISSUER, PROFILE: 'fapi2', CONSOLE: 'on' }), {
    message: /CONSOLE: cannot be on with PROFILE=fapi2/,
  })
  t.equal(loadConfig({ ISSUER, REQUIRE_PAR: 'true' }).console, true, 'REQUIRE_PAR: the console pushes its requests')
})

t.test('the built-in client: code flow with DPoP, tokens addressed to the issuer, admin scopes', async (t) => {
  const app = await server()
  const client = await app.ctx.clients.get('tollgate-console')
  t.match(client, {
    public: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    audiences: [ISSUER],
    redirectUris: [`${ISSUER}/console/callback`],
    postLogoutRedirectUris: [`${ISSUER}/console/`],
    dpopBoundAccessTokens: true,
  })
  t.ok(client?.scopes.includes('tollgate:admin'))
  t.equal(await app.ctx.store.getClient('tollgate-console'), undefined, 'never stored')
  const authorize = await app.inject({
    url: `/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'tollgate-console',
      redirect_uri: `${ISSUER}/console/callback`,
      scope: 'openid tollgate:admin',
      resource: ISSUER,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`,
  })
  t.equal(authorize.statusCode, 200, 'its sign-in page')
  t.match(authorize.body, 'Tollgate console')
})

t.test('nobody may take the console client’s id: admin API and bootstrap file', async (t) => {
  const { call, botToken } = await adminServer()
  const admin = await botToken('admin-bot')
  const res = await call('POST', '/admin/v1/clients', admin, {
    client_id: 'tollgate-console',
    public: true,
    grant_types: ['authorization_code'],
    audiences: ['https://api.test'],
    redirect_uris: ['https://evil.test/cb'],
  })
  t.equal(res.status, 400)
  t.equal(res.body.error, 'invalid_client_metadata')
  t.match(res.body.error_description, /reserved for the built-in console client/)
  const store = new MemoryStore()
  await t.rejects(
    applyBootstrap(
      { clients: [{ client_id: 'tollgate-console', public: true, grant_types: ['password'] }] },
      store,
      new SecretHasher(randomBytes(32)),
      Date.now(),
    ),
    { code: 'ERR_BOOTSTRAP', message: /reserved/ },
  )
})

t.test(
  'GET /admin/v1/sessions: every live session with its user, whole users per page, for the sessions scope',
  async (t) => {
    const { call, botToken, userToken } = await adminServer()
    const admin = await botToken('admin-bot')
    const a1 = await userToken('alice')
    await userToken('alice')
    await userToken('carol')
    const all = await call('GET', '/admin/v1/sessions', admin)
    t.equal(all.status, 200)
    const items = all.body.items as { id: string; sub: string; username: string; client_id: string }[]
    t.same(
      items.map((s) => s.username),
      ['alice', 'alice', 'carol'],
      'user by user',
    )
    t.ok(items.every((s) => s.client_id === 'console' && typeof s.sub === 'string'))
    t.equal(all.body.next_cursor, null)
    t.notMatch(JSON.stringify(all.body), a1.refresh_token, 'never token material')

    const first = await call('GET', '/admin/v1/sessions?limit=1', admin)
    t.same(
      (first.body.items as { username: string }[]).map((s) => s.username),
      ['alice', 'alice'],
      'a user’s sessions are never split across pages',
    )
    const next = await call('GET', `/admin/v1/sessions?limit=1&cursor=${first.body.next_cursor}`, admin)
    t.same(
      (next.body.items as { username: string }[]).map((s) => s.username),
      ['carol'],
    )
    t.equal(next.body.next_cursor, null)
    t.equal((await call('GET', '/admin/v1/sessions?cursor=%%%', admin)).status, 400)
    t.equal((await call('GET', '/admin/v1/sessions', await botToken('users-bot'))).status, 403)
    t.equal((await call('GET', '/admin/v1/sessions', undefined)).status, 401)
  },
)
