// Input limits: oversized or excessive input gets a protocol error, never a 500 and never unbounded work.
import t from 'tap'
import { basic, form, SERVICE_SECRET, testServer } from '../helpers.js'

const { app } = await testServer({ COOKIE_SECURE: 'false' })
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const cc = (payload: string) =>
  app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, authorization: basic('service', SERVICE_SECRET) },
    payload,
  })

t.test('a form body over 16 KiB: 413 invalid_request', async (t) => {
  const res = await cc(`grant_type=client_credentials&scope=${'a'.repeat(20_000)}`)
  t.equal(res.statusCode, 413)
  t.equal(res.json().error, 'invalid_request')
})

t.test('a 10 MiB body is refused without being parsed', async (t) => {
  const res = await cc('a'.repeat(10 * 1024 * 1024))
  t.equal(res.statusCode, 413)
})

t.test('a JSON body over the global limit at the session endpoints: 413', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/session/login',
    headers: { 'content-type': 'application/json', origin: 'https://app.test' },
    payload: JSON.stringify({ client_id: 'spa', username: 'alice', password: 'x'.repeat(100_000) }),
  })
  t.equal(res.statusCode, 413)
  t.equal(res.json().error, 'invalid_request')
})

t.test('too many parameters: invalid_request', async (t) => {
  const many = Array.from({ length: 40 }, (_, i) => `p${i}=x`).join('&')
  const res = await cc(`grant_type=client_credentials&${many}`)
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
})

t.test('a parameter longer than 4096 characters: invalid_request', async (t) => {
  const res = await cc(`grant_type=client_credentials&scope=${'a'.repeat(5_000)}`)
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
})

t.test('more than 64 scopes: invalid_scope', async (t) => {
  const res = await cc(
    form({ grant_type: 'client_credentials', scope: Array.from({ length: 65 }, (_, i) => `s${i}`).join(' ') }),
  )
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_scope')
})

t.test('too many resource indicators: invalid_request', async (t) => {
  const res = await cc(
    `grant_type=client_credentials&${Array.from({ length: 20 }, () => 'resource=https://api.test').join('&')}`,
  )
  t.equal(res.statusCode, 400)
})

t.test('an oversized bearer token at the auth server: 401, not parsed', async (t) => {
  const res = await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${'a'.repeat(9_000)}.b.c` } })
  t.equal(res.statusCode, 401)
  t.match(res.headers['www-authenticate'], /invalid_token/)
})

t.test('an oversized username or client_id is refused cheaply', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'password', client_id: 'web', username: 'u'.repeat(4_000), password: 'p' }),
  })
  t.equal(res.statusCode, 400)
  const client = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: 'client_credentials', client_id: 'c'.repeat(4_000), client_secret: 's' }),
  })
  t.equal(client.statusCode, 401)
})
