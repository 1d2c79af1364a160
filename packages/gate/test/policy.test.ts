// The policy matcher: which rule a request falls under, and the startup errors a bad policy file gets.
import t from 'tap'
import {
  type Policy,
  PolicyError,
  parsePolicy,
  type Requirement,
  requirementFor,
  requirementOfQuery,
} from '../src/policy.js'

const AUD = 'https://orders.example'
const policy = (rules: unknown[], dpop = true): Policy => parsePolicy({ rules }, { audience: AUD, dpop })
const at = (p: Policy, path: string, method = 'GET', host = 'orders.example') =>
  requirementFor(p, { method, host, path })
const scopesAt = (p: Policy, path: string, method?: string, host?: string) =>
  (at(p, path, method, host) as Requirement).scopes

const shop = policy([
  { path: '/orders/', scopes: ['orders:read'] },
  { path: '/orders/', methods: ['POST', 'DELETE'], scopes: ['orders:write'] },
  { path: '/orders/admin', scopes: ['orders:admin'] },
  { path: '/health', public: true },
  { path: '/payments', audience: 'https://payments.example', dpop: 'required' },
  { path: '/', host: 'admin.example', scopes: ['admin'] },
])

t.test('no rules: every request needs a token for AUDIENCE, any scope', async (t) => {
  const none = policy([])
  t.same(at(none, '/anything'), { audience: AUD, scopes: [], dpop: false, public: false })
})

t.test('the longest matching path wins', async (t) => {
  t.same(scopesAt(shop, '/orders/7'), ['orders:read'])
  t.same(scopesAt(shop, '/orders/admin/users'), ['orders:admin'])
  t.same(scopesAt(shop, '/elsewhere'), [], 'no rule: the fallback')
})

t.test('a rule with methods comes before one without at the same path', async (t) => {
  t.same(scopesAt(shop, '/orders/7', 'POST'), ['orders:write'])
  t.same(scopesAt(shop, '/orders/7', 'DELETE'), ['orders:write'])
  t.same(scopesAt(shop, '/orders/7', 'PUT'), ['orders:read'])
  const reads = policy([{ path: '/r', methods: ['GET'], public: true }])
  t.equal((at(reads, '/r', 'HEAD') as Requirement).public, true, 'GET covers HEAD')
})

t.test('paths match element by element, not as strings', async (t) => {
  t.equal((at(shop, '/health') as Requirement).public, true)
  t.equal((at(shop, '/health/live') as Requirement).public, true)
  t.equal((at(shop, '/healthz') as Requirement).public, false, '/health does not open /healthz')
  t.equal((at(shop, '/health-admin') as Requirement).public, false)
  t.same(scopesAt(shop, '/orders'), ['orders:read'], 'a trailing slash makes no difference')
})

t.test('host matches with or without its port, case-insensitively', async (t) => {
  t.same(scopesAt(shop, '/x', 'GET', 'admin.example'), ['admin'])
  t.same(scopesAt(shop, '/x', 'GET', 'ADMIN.example:8443'), ['admin'])
  t.same(scopesAt(shop, '/x', 'GET', 'admin.example.'), ['admin'], 'a trailing dot is the same host')
  t.same(scopesAt(shop, '/x', 'GET', 'orders.example'), [])
  const ported = policy([{ path: '/', host: 'api.example:8443', scopes: ['p'] }])
  t.same(scopesAt(ported, '/x', 'GET', 'api.example:8443'), ['p'])
  t.same(scopesAt(ported, '/x', 'GET', 'api.example'), [], 'a rule that names a port wants that port')
  t.same(scopesAt(policy([{ path: '/', host: '[::1]', scopes: ['v6'] }]), '/', 'GET', '[::1]:8080'), ['v6'])
})

t.test('a rule with host comes before one without at the same path length', async (t) => {
  const p = policy([
    { path: '/api', scopes: ['any'] },
    { path: '/api', host: 'internal.example', scopes: ['internal'] },
  ])
  t.same(scopesAt(p, '/api/x', 'GET', 'internal.example'), ['internal'])
  t.same(scopesAt(p, '/api/x', 'GET', 'public.example'), ['any'])
})

t.test('rules name audience and DPoP', async (t) => {
  t.same(at(shop, '/payments/1'), { audience: 'https://payments.example', scopes: [], dpop: true, public: false })
  t.same([...shop.audiences].sort(), ['https://orders.example', 'https://payments.example'])
  t.same(shop.scopes, ['admin', 'orders:admin', 'orders:read', 'orders:write'])
})

t.test('a path read differently by the upstream cannot slip past a stricter rule', async (t) => {
  const p = policy([
    { path: '/', public: true },
    { path: '/admin', scopes: ['admin'] },
  ])
  t.same(scopesAt(p, '/%61dmin/users'), ['admin'], 'escaped letters are decoded')
  t.equal(at(p, '/public%2F..%2Fadmin'), 'dot-segment', 'encoded dot segments are refused')
  t.equal(at(p, '/public/../admin'), 'dot-segment')
  t.equal(at(p, '/./admin'), 'dot-segment')
  t.equal((at(p, '/x%2Fadmin') as Requirement).public, true, 'an encoded slash that reaches no rule is fine')
  t.equal(at(p, '/admin%2Fusers'), 'ambiguous', 'an encoded slash under a rule boundary is ambiguous')
  t.equal(at(p, '/admin;jsessionid=1/x'), 'ambiguous', ';parameters that hide a rule are ambiguous')
  t.equal(at(p, '/ADMIN'), 'ambiguous', 'letter case that hides a rule is ambiguous')
  t.equal(at(p, '/adm%zzin'), 'malformed')
  t.same(scopesAt(p, '//admin'), ['admin'], 'empty segments are skipped')
  t.equal((at(p, '/Docs/Intro') as Requirement).public, true, 'case that changes nothing is fine')
  t.equal((at(p, '/files/a%2Fb') as Requirement).public, true, 'an encoded slash that changes nothing is fine')
})

t.test('rules in mixed case match their own spelling only, and never by accident', async (t) => {
  const p = policy([
    { path: '/', public: true },
    { path: '/Reports', scopes: ['reports'] },
  ])
  t.same(scopesAt(p, '/Reports/q1'), ['reports'])
  t.equal(at(p, '/reports/q1'), 'ambiguous', 'a case-insensitive upstream would serve /Reports here')
})

t.test('bad policies stop startup with one line naming the rule and the field', async (t) => {
  const cases: [unknown, RegExp][] = [
    [[], /must be a JSON object/],
    [{ rules: [], extra: 1 }, /unknown field "extra"/],
    [{ rules: {} }, /"rules" must be a list/],
    [{ rules: [{ path: '/a', scope: ['x'] }] }, /^rules\[0\]: unknown field "scope" \(did you mean "scopes"\?\)$/],
    [{ rules: [{ path: 'a' }] }, /rules\[0\]\.path: must be a path starting with "\/"/],
    [{ rules: [{ path: '/a?b=1' }] }, /rules\[0\]\.path/],
    [{ rules: [{ path: '/a/../b' }] }, /must not contain "\." or "\.\." segments/],
    [{ rules: [{ path: '/a', methods: ['get'] }] }, /rules\[0\] \(path "\/a"\)\.methods: must be a non-empty list/],
    [{ rules: [{ path: '/a', methods: [] }] }, /methods/],
    [{ rules: [{ path: '/a', scopes: 'x' }] }, /scopes: must be a list of scope names/],
    [{ rules: [{ path: '/a', scopes: ['a b'] }] }, /scopes/],
    [{ rules: [{ path: '/a', dpop: true }] }, /dpop: must be "required"/],
    [{ rules: [{ path: '/a', public: false }] }, /public: must be true/],
    [{ rules: [{ path: '/a', public: true, scopes: ['x'] }] }, /a public rule takes no/],
    [{ rules: [{ path: '/a', host: 'http://x' }] }, /host: must be a host name/],
    [{ rules: [{ path: '/a', audience: '' }] }, /audience: must be a non-empty string/],
    [{ rules: ['x'] }, /rules\[0\]: must be an object/],
    [
      { rules: [{ path: '/a' }, { path: '/b' }, { path: '/a/' }] },
      /rules\[2\]: covers the same requests as rules\[0\]/,
    ],
  ]
  for (const [doc, message] of cases) {
    t.throws(() => parsePolicy(doc, { audience: AUD, dpop: true }), message, JSON.stringify(doc))
    try {
      parsePolicy(doc, { audience: AUD, dpop: true })
    } catch (err) {
      t.ok(err instanceof PolicyError && !err.message.includes('\n'), 'one line')
    }
  }
  t.throws(() => policy([{ path: '/a', dpop: 'required' }], false), /DPoP is off/)
})

t.test('auth URL parameters name a requirement; a typo is refused, not ignored', async (t) => {
  t.equal(requirementOfQuery('', AUD), undefined)
  t.same(requirementOfQuery('scope=orders:read%20orders:write', AUD), {
    audience: AUD,
    scopes: ['orders:read', 'orders:write'],
    dpop: false,
    public: false,
  })
  t.same(requirementOfQuery('scope=a,b&audience=https://x.example&dpop=required', AUD), {
    audience: 'https://x.example',
    scopes: ['a', 'b'],
    dpop: true,
    public: false,
  })
  t.throws(() => requirementOfQuery('scopes=a', AUD), /unknown parameter "scopes"/)
  t.throws(() => requirementOfQuery('scope=a&scope=b', AUD), /repeated/)
  t.throws(() => requirementOfQuery('audience=', AUD), /empty/)
  t.throws(() => requirementOfQuery('dpop=yes', AUD), /must be "required"/)
  t.throws(() => requirementOfQuery('scope=%22x%22', AUD), /invalid scope/)
})
