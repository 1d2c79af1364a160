// The gate's configuration: defaults, and one line naming the variable (and the rule) for anything wrong.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

const dir = await mkdtemp(path.join(tmpdir(), 'gate-config-'))
const file = async (name: string, text: string) => {
  const at = path.join(dir, name)
  await writeFile(at, text)
  return at
}

t.test('defaults: port 3003, loopback proxies, no rules, DPoP on, replay guard in memory', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 3003)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.audience, 'http://localhost:3003')
  t.equal(c.issuer, 'http://localhost:3000')
  t.equal(c.trustProxySpec, 'loopback')
  t.ok(c.trustProxy('127.0.0.1'))
  t.notOk(c.trustProxy('10.0.0.1'))
  t.equal(c.policy.rules.length, 0)
  t.equal(c.policySource, 'none')
  t.equal(c.dpop, true)
  t.equal(c.redisUrl, undefined)
  t.equal(c.revocationEvents, 'on')
})

t.test('GATE_POLICY from a file or inline JSON', async (t) => {
  const rules = JSON.stringify({ rules: [{ path: '/health', public: true }] })
  t.equal(loadConfig({ GATE_POLICY: await file('ok.json', rules) }).policy.rules.length, 1)
  t.equal(loadConfig({ GATE_POLICY: rules }).policySource, 'inline')
})

t.test('every mistake is one line naming the variable', async (t) => {
  const typo = await file('typo.json', JSON.stringify({ rules: [{ path: '/a' }, { path: '/b', scope: ['x'] }] }))
  const cases: [Record<string, string>, string][] = [
    [{ GATE_POLICY: typo }, `GATE_POLICY: ${typo}: rules[1]: unknown field "scope" (did you mean "scopes"?)`],
    [
      { GATE_POLICY: '{"rules": [{"path": "/a", "dpop": "yes"}]}' },
      'GATE_POLICY: rules[0] (path "/a").dpop: must be "required" (leave it out otherwise)',
    ],
    [
      { GATE_POLICY: path.join(dir, 'missing.json') },
      `GATE_POLICY: cannot read ${path.join(dir, 'missing.json')} (no such file)`,
    ],
    [{ GATE_POLICY: '{nope' }, 'GATE_POLICY: the value is not valid JSON'],
    [
      { TRUST_PROXY: 'localhost' },
      'TRUST_PROXY: "localhost" is not an address, a CIDR range or one of loopback, linklocal, uniquelocal',
    ],
    [{ PORT: 'x' }, 'PORT: must be a whole number between 0 and 65535'],
    [{ ISSUER: 'auth' }, 'ISSUER: must be an absolute http(s) URL'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL: must be a redis:// or rediss:// URL'],
    [{ DPOP: 'off', DPOP_NONCE: 'required' }, 'DPOP_NONCE: is required, but DPoP is off (DPOP=off)'],
    [{ DPOP_NONCE_KEY: 'short' }, 'DPOP_NONCE_KEY: must be at least 32 bytes, base64url-encoded'],
    [{ REVOCATION_MAX_LAG: '-1' }, 'REVOCATION_MAX_LAG: must be a whole number of seconds'],
  ]
  for (const [env, message] of cases) {
    try {
      loadConfig(env)
      t.fail(`${JSON.stringify(env)} accepted`)
    } catch (err) {
      t.ok(err instanceof ConfigError, JSON.stringify(env))
      t.ok((err as Error).message.startsWith(message), (err as Error).message)
      t.notMatch((err as Error).message, /\n/)
    }
  }
})
