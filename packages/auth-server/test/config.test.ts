import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('defaults follow the SPEC', async (t) => {
  const c = loadConfig({}, '/srv')
  t.equal(c.port, 3000)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.issuer, 'http://localhost:3000')
  t.equal(c.redisUrl, undefined)
  t.equal(c.keysDir, '/srv/.data/keys')
  t.equal(c.accessTokenTtl, 300)
  t.equal(c.refreshIdleTtl, 1_209_600)
  t.equal(c.refreshAbsoluteTtl, 2_592_000)
  t.equal(c.refreshReuseGrace, 10)
  t.equal(c.cookieSecure, false, 'plain-HTTP localhost issuer')
  t.ok(Object.isFrozen(c))
})

t.test('SIGNING_ALGS: RS256 by default and always; ACCESS_TOKEN_SIGNING_ALG one of them', async (t) => {
  t.same(loadConfig({}).signingAlgs, ['RS256'])
  t.equal(loadConfig({}).accessTokenSigningAlg, 'RS256')
  const c = loadConfig({ SIGNING_ALGS: ' EdDSA, RS256,ES256,ES256', ACCESS_TOKEN_SIGNING_ALG: 'ES256' })
  t.same(c.signingAlgs, ['RS256', 'EdDSA', 'ES256'], 'RS256 first, each once')
  t.equal(c.accessTokenSigningAlg, 'ES256')
  t.throws(() => loadConfig({ ACCESS_TOKEN_SIGNING_ALG: 'EdDSA' }), {
    message: 'ACCESS_TOKEN_SIGNING_ALG: EdDSA is not in SIGNING_ALGS (RS256)',
  })
})

t.test('COOKIE_SECURE defaults to true for a real issuer', async (t) => {
  t.equal(loadConfig({ ISSUER: 'https://auth.example.com' }).cookieSecure, true)
  t.equal(loadConfig({ ISSUER: 'https://auth.example.com', COOKIE_SECURE: 'false' }).cookieSecure, false)
})

t.test('each bad value names its variable', async (t) => {
  const cases: [Record<string, string>, string][] = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ISSUER: 'not a url' }, 'ISSUER'],
    [{ ISSUER: 'ftp://x' }, 'ISSUER'],
    [{ ISSUER: 'https://x/?a=b' }, 'ISSUER'],
    [{ ACCESS_TOKEN_TTL: '0' }, 'ACCESS_TOKEN_TTL'],
    [{ ACCESS_TOKEN_TTL: '5m' }, 'ACCESS_TOKEN_TTL'],
    [{ REFRESH_IDLE_TTL: '100', REFRESH_ABSOLUTE_TTL: '90' }, 'REFRESH_IDLE_TTL'],
    [{ REFRESH_REUSE_GRACE: '-1' }, 'REFRESH_REUSE_GRACE'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ REDIS_CLUSTER_NODES: 'a:1,b' }, 'REDIS_CLUSTER_NODES'],
    [{ COOKIE_SECURE: 'maybe' }, 'COOKIE_SECURE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ CLIENT_SECRET_KEY: 'short' }, 'CLIENT_SECRET_KEY'],
    [{ SIGNING_ALGS: 'RS256,HS256' }, 'SIGNING_ALGS'],
    [{ SIGNING_ALGS: 'ES256' }, 'SIGNING_ALGS'],
    [{ SIGNING_ALGS: 'RS256,none' }, 'SIGNING_ALGS'],
    [{ ACCESS_TOKEN_SIGNING_ALG: 'ES256' }, 'ACCESS_TOKEN_SIGNING_ALG'],
    [{ ACCESS_TOKEN_SIGNING_ALG: 'PS256', SIGNING_ALGS: 'RS256,ES256' }, 'ACCESS_TOKEN_SIGNING_ALG'],
  ]
  for (const [env, variable] of cases) {
    const err = (() => {
      try {
        loadConfig(env)
      } catch (e) {
        return e
      }
    })() as ConfigError
    t.ok(err instanceof ConfigError, JSON.stringify(env))
    t.equal(err.variable, variable)
    t.ok(err.message.startsWith(`${variable}: `))
  }
})

t.test('a REDIS_URL password never appears in the error', async (t) => {
  const err = (() => {
    try {
      loadConfig({ REDIS_URL: 'http://user:hunter2@x' })
    } catch (e) {
      return e as Error
    }
  })()
  t.notMatch(err?.message, 'hunter2')
})

t.test('the server stops with one line naming the variable', async (t) => {
  const server = new URL('../dist/server.js', import.meta.url).pathname
  const result = await promisify(execFile)(process.execPath, [server], {
    env: { ...process.env, ACCESS_TOKEN_TTL: 'soon' },
  }).catch((e: { code: number; stdout: string; stderr: string }) => e)
  t.equal((result as { code: number }).code, 1)
  t.equal(result.stdout, '')
  t.equal(result.stderr.trim().split('\n').length, 1)
  t.match(result.stderr, /^tollgate: invalid configuration: ACCESS_TOKEN_TTL: /)
})
