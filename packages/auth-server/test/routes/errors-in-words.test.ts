// Issue 21 and 22: requests the server cannot use are answered in a person's words — which parameter is missing,
// repeated, too long or malformed, which content type is expected — never in a validator's, and always in the OAuth
// error format.
import t, { type Test } from 'tap'
import { basic, form, SERVICE_SECRET, testServer } from '../helpers.js'

const { app } = await testServer()

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const token = (payload: string | undefined, headers: Record<string, string> = FORM) =>
  app.inject({ method: 'POST', url: '/oauth/token', headers, ...(payload === undefined ? {} : { payload }) })

/** Whether a text holds a control character or a right-to-left override. */
const unsafe = (text: string) => [...text].some((c) => (c.codePointAt(0) as number) < 0x20 || c === '\u202e')

/** No schema path, no validator wording, and the OAuth shape. */
function readable(t: Test, body: Record<string, unknown>) {
  t.type(body.error, 'string')
  t.type(body.error_description, 'string')
  t.notMatch(
    body.error_description,
    /(body|querystring|params|headers)\/|must NOT|must be object|#\//,
    'no validator words',
  )
}

t.test('an empty POST names what is expected: a form with grant_type', async (t) => {
  const res = await token(undefined, {})
  t.equal(res.statusCode, 400)
  const body = res.json()
  t.equal(body.error, 'invalid_request')
  t.match(body.error_description, /application\/x-www-form-urlencoded/)
  readable(t, body)
  const empty = await token('')
  t.equal(empty.statusCode, 400)
  t.match(empty.json().error_description, /"grant_type" is required/)
})

t.test('a repeated grant_type is named as repeated', async (t) => {
  const res = await token(form({ grant_type: ['client_credentials', 'password'] }))
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
  t.match(res.json().error_description, /"grant_type" must not be repeated/)
  readable(t, res.json())
})

t.test('JSON or text/plain: 415 saying a form is expected', async (t) => {
  for (const type of ['application/json', 'text/plain']) {
    const res = await token(type === 'application/json' ? '{"grant_type":"client_credentials"}' : 'x', {
      'content-type': type,
    })
    t.equal(res.statusCode, 415, type)
    t.equal(res.json().error, 'invalid_request')
    t.match(res.json().error_description, /send application\/x-www-form-urlencoded/)
  }
})

t.test('a malformed percent-escape in the body or the query is invalid_request, not a literal', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, authorization: basic('service', SERVICE_SECRET) },
    payload: 'grant_type=client_credentials&scope=%ZZ',
  })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
  t.match(res.json().error_description, /malformed percent-escape/)
  const query = await app.inject({ method: 'GET', url: '/oauth/authorize?client_id=spa&scope=%ZZ' })
  t.equal(query.statusCode, 400)
  t.match(query.body, /malformed percent-escape/)
  const fine = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, authorization: basic('service', SERVICE_SECRET) },
    payload: 'grant_type=client_credentials&scope=notes%3Aread',
  })
  t.equal(fine.statusCode, 200, 'well-formed escapes still work')
})

t.test('too long and too many: named, with the limit', async (t) => {
  const long = await token(form({ grant_type: 'client_credentials', scope: 'x'.repeat(5000) }))
  t.equal(long.statusCode, 400)
  t.match(long.json().error_description, /"scope" is too long \(at most 4096 characters\)/)
  const many: Record<string, string> = { grant_type: 'client_credentials' }
  for (let i = 0; i < 40; i++) many[`p${i}`] = 'x'
  const res = await token(form(many))
  t.equal(res.statusCode, 400)
  t.match(res.json().error_description, /too many parameters \(at most 32\)/)
  readable(t, res.json())
})

t.test('a URL that cannot be decoded is answered in the OAuth format', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/%zz' })
  t.equal(res.statusCode, 400)
  t.same(Object.keys(res.json()).sort(), ['error', 'error_description'])
  t.equal(res.json().error, 'invalid_request')
  t.notMatch(res.body, /FST_ERR|statusCode/)
})

t.test('input echoed in a description is cut short and stripped of control and bidi characters', async (t) => {
  const res = await app.inject({ method: 'GET', url: `/no-such-${'a'.repeat(300)}%E2%80%AE%1B%5B31m` })
  t.equal(res.statusCode, 404)
  const text = res.json().error_description as string
  t.notOk(unsafe(text), 'no control or override characters')
  t.ok(text.length < 160, `cut short (${text.length} characters)`)
  const grant = await token(form({ grant_type: `evil\u202e\u001b[31m${'g'.repeat(200)}` }), {
    ...FORM,
    authorization: basic('service', SERVICE_SECRET),
  })
  t.equal(grant.statusCode, 400)
  t.notOk(unsafe(grant.json().error_description))
  t.ok((grant.json().error_description as string).length < 160)
})

t.test(
  'malformed HTTP (headers too large, a garbage request line) is answered in JSON; a HEAD without a body',
  async (t) => {
    const { app: server } = await testServer()
    await server.listen({ port: 0, host: '127.0.0.1' })
    t.teardown(() => server.close())
    const { port } = server.server.address() as { port: number }
    const { connect } = await import('node:net')
    const raw = (request: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(request))
        let out = ''
        socket.on('data', (d) => {
          out += d
        })
        socket.on('close', () => resolve(out))
        socket.on('error', () => resolve(out))
      })
    const huge = `x-pad: ${'a'.repeat(20_000)}\r\n`
    const get = await raw(`GET /healthz HTTP/1.1\r\nhost: auth.test\r\n${huge}\r\n`)
    t.match(get, /^HTTP\/1\.1 431 /)
    const body = get.slice(get.indexOf('\r\n\r\n') + 4)
    t.same(JSON.parse(body), { error: 'invalid_request', error_description: 'the request headers are too large' })
    const head = await raw(`HEAD /healthz HTTP/1.1\r\nhost: auth.test\r\n${huge}\r\n`)
    t.match(head, /^HTTP\/1\.1 431 /)
    t.match(head, /content-length: 0\r\n/i)
    t.equal(head.slice(head.indexOf('\r\n\r\n') + 4), '', 'no body to a HEAD request')
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n')
    t.match(garbage, /^HTTP\/1\.1 400 /)
    t.equal(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4)).error, 'invalid_request')
  },
)
