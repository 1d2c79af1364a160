import t from 'tap'
import { describeUserAgent } from '../../src/sessions/user-agent.js'
import {
  hashRefreshToken,
  newRefreshToken,
  openSuccessor,
  parseRefreshToken,
  sealSuccessor,
  sessionId,
  successorOf,
} from '../../src/tokens/refresh-token.js'

const SUB = '6f1c1b8e-2f7a-4c55-9a43-0b1f2d9e7c11'

t.test('a refresh token carries 256 random bits and parses back', async (t) => {
  const token = newRefreshToken(SUB)
  t.equal(Buffer.from(token.secret, 'base64url').length, 32)
  t.same(parseRefreshToken(token.token), token)
  t.not(newRefreshToken(SUB).secret, token.secret)
})

t.test('a successor stays in the family with a new secret', async (t) => {
  const token = newRefreshToken(SUB)
  const next = successorOf(token)
  t.equal(next.fid, token.fid)
  t.equal(next.sub, SUB)
  t.not(next.secret, token.secret)
})

t.test('anything else does not parse', async (t) => {
  for (const bad of [
    '',
    'a.b.c',
    `${SUB}.short.x`,
    `${SUB.toUpperCase()}.${'a'.repeat(22)}.${'b'.repeat(43)}`,
    `${'x'.repeat(200)}`,
  ]) {
    t.equal(parseRefreshToken(bad), undefined, bad.slice(0, 20))
  }
})

t.test('the stored hash is short, stable and reveals nothing of the token', async (t) => {
  const token = newRefreshToken(SUB)
  const hash = hashRefreshToken(token.token)
  t.match(hash, /^[A-Za-z0-9_-]{22}$/)
  t.equal(hashRefreshToken(token.token), hash)
  t.not(hashRefreshToken(successorOf(token).token), hash)
  t.notMatch(hash, token.secret.slice(0, 8))
})

t.test('only the parent can open its sealed successor', async (t) => {
  const parent = newRefreshToken(SUB)
  const child = successorOf(parent)
  const sealed = sealSuccessor(parent.token, child.secret)
  t.match(sealed, /^[A-Za-z0-9_-]{43}$/, 'compact: fits Redis listpack values')
  t.not(sealed, child.secret)
  t.equal(openSuccessor(parent.token, sealed), child.secret)
  const other = newRefreshToken(SUB)
  t.not(openSuccessor(other.token, sealed), child.secret)
  t.equal(openSuccessor(parent.token, 'short'), undefined)
})

t.test('the public session id does not reveal the family id', async (t) => {
  const { fid } = newRefreshToken(SUB)
  t.match(sessionId(fid), /^[A-Za-z0-9_-]{16}$/)
  t.notMatch(sessionId(fid), fid)
  t.equal(sessionId(fid), sessionId(fid))
})

t.test('user agents are summarised for session lists', async (t) => {
  const cases: [string | undefined, string | undefined][] = [
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome 131 on Linux',
    ],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox 133 on Windows'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari 17 on iOS',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Edge 131 on macOS',
    ],
    ['curl/8.5.0', 'curl 8'],
    ['node', 'node'],
    [undefined, undefined],
    ['', undefined],
  ]
  for (const [ua, expected] of cases) t.equal(describeUserAgent(ua), expected)
  t.ok((describeUserAgent('x'.repeat(500)) ?? '').length <= 64)
})
