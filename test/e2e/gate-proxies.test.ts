// The gate as Traefik and Envoy call it — their requests written out byte for byte as their documentation and
// source describe them (Traefik's ForwardAuth: GET with X-Forwarded-Method/-Proto/-Host/-Uri/-Port/-For; Envoy's
// HTTP ext_authz: the original method, the path after path_prefix, the original Host, Content-Length: 0, the
// allowed headers) — and whatever else arrives on its socket: every answer is 200, 401 or 403.
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { proofKey } from '../support/dpop.js'
import { startE2e } from '../support/e2e.js'
import { READER, SERVICE, tokenRequest } from '../support/fixtures.js'
import { stopWith } from '../support/processes.js'
import { ROOT, spawnService, startGate } from '../support/services.js'

const AUDIENCE = 'https://orders.example.com'
const stack = await startE2e(t, { redis: false, audience: AUDIENCE })
const policyFile = path.join(path.dirname(stack.file), 'policy.json')
await writeFile(
  policyFile,
  JSON.stringify({
    rules: [
      { path: '/health', public: true },
      { path: '/orders', methods: ['POST', 'DELETE'], scopes: ['notes:write'] },
      { path: '/orders', scopes: ['notes:read'] },
    ],
  }),
)
const gate = await startGate({ env: { ISSUER: stack.issuer, AUDIENCE, GATE_POLICY: policyFile } })
stopWith(t, { gate })

interface Raw {
  readonly status: number
  readonly headers: [string, string][]
  readonly body: string
  header(name: string): string[]
}

/** Sends `request` as written, byte for byte, and reads the answer (the connection closes after it). */
function raw(request: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(gate.port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')))
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      const [statusLine = '', ...lines] = text.slice(0, end === -1 ? text.length : end).split('\r\n')
      const headers = lines.map((l) => [
        l.slice(0, l.indexOf(':')).toLowerCase(),
        l.slice(l.indexOf(':') + 1).trim(),
      ]) as [string, string][]
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: end === -1 ? '' : text.slice(end + 4),
        header: (name) => headers.filter(([n]) => n === name).map(([, v]) => v),
      })
    })
    socket.write(request)
  })
}
/** A request from its lines, closing the connection after the answer unless it says otherwise. */
const http = (lines: string[]) =>
  `${[...lines, ...(lines.some((l) => /^connection:/i.test(l)) ? [] : ['Connection: close'])].join('\r\n')}\r\n\r\n`
const token = async (client = SERVICE) =>
  (await tokenRequest(stack.tokenUrl, { grant_type: 'client_credentials' }, client)).body.access_token as string
const gateHost = `127.0.0.1:${gate.port}`

/**
 * Traefik v3's ForwardAuth request for `GET http://orders.example.com:8080<uri>` from 203.0.113.9, configured as in
 * docs/gate.md (authRequestHeaders: Authorization, DPoP; trustForwardHeader: false): Go's client adds User-Agent and
 * Accept-Encoding, canonicalises names (Dpop), and closes after the answer here.
 */
const traefik = (method: string, uri: string, credentials: string[], extra: string[] = []) =>
  http([
    'GET /verify HTTP/1.1',
    `Host: ${gateHost}`,
    'User-Agent: Go-http-client/1.1',
    ...credentials,
    ...extra,
    'X-Forwarded-For: 203.0.113.9',
    `X-Forwarded-Method: ${method}`,
    'X-Forwarded-Proto: http',
    'X-Forwarded-Port: 8080',
    'X-Forwarded-Host: orders.example.com:8080',
    `X-Forwarded-Uri: ${uri}`,
    'Accept-Encoding: gzip',
  ])

/**
 * Envoy's HTTP ext_authz request (path_prefix /ext-authz; allowed_headers dpop, x-forwarded-proto) for
 * `<method> https://orders.example.com<uri>`: lower-case names, the original Host, Content-Length: 0.
 */
const envoy = (method: string, uri: string, credentials: string[]) =>
  http([
    `${method} /ext-authz${uri} HTTP/1.1`,
    'host: orders.example.com',
    'content-length: 0',
    ...credentials.map((c) => c.replace(/^[^:]+/, (name) => name.toLowerCase())),
    'x-forwarded-proto: https',
    'x-envoy-expected-rq-timeout-ms: 1000',
  ])

const IDENTITY = ['x-auth-subject', 'x-auth-client-id', 'x-auth-scope', 'x-auth-session', 'x-auth-actor']

t.test('Traefik ForwardAuth: allowed with the identity headers Traefik copies (authResponseHeaders)', async (t) => {
  const res = await raw(traefik('GET', '/orders/7?expand=items', [`Authorization: Bearer ${await token()}`]))
  t.equal(res.status, 200)
  t.equal(res.body, '')
  t.same(
    IDENTITY.map((h) => res.header(h)),
    [[SERVICE.id], [SERVICE.id], ['notes:read notes:write'], [''], ['']],
    'each header exactly once, empty where it does not apply',
  )
})

t.test('Traefik ForwardAuth: refusals are what Traefik hands the client (status, every header, body)', async (t) => {
  const missing = await raw(traefik('GET', '/orders', []))
  t.equal(missing.status, 401)
  t.equal(missing.header('www-authenticate').length, 2, 'Bearer and the DPoP offer')
  t.same(JSON.parse(missing.body), {
    error_description: 'this resource needs an access token (Authorization: Bearer or DPoP)',
  })
  const forbidden = await raw(traefik('DELETE', '/orders/7', [`Authorization: Bearer ${await token(READER)}`]))
  t.equal(forbidden.status, 403)
  t.match(forbidden.header('www-authenticate')[0], /insufficient_scope.*scope="notes:write"/)
})

t.test(
  'Traefik ForwardAuth with DPoP: htu is http://orders.example.com:8080/… as the client addressed it',
  async (t) => {
    const client = proofKey()
    const res = await fetch(stack.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${SERVICE.id}:${SERVICE.secret}`).toString('base64')}`,
        dpop: client.proof('POST', stack.tokenUrl),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    const bound = ((await res.json()) as { access_token: string }).access_token
    const proof = client.proof('GET', 'http://orders.example.com:8080/orders/7', { accessToken: bound })
    const ok = await raw(traefik('GET', '/orders/7?x=1', [`Authorization: DPoP ${bound}`, `Dpop: ${proof}`]))
    t.equal(ok.status, 200)
    const again = await raw(traefik('GET', '/orders/7?x=1', [`Authorization: DPoP ${bound}`, `Dpop: ${proof}`]))
    t.equal(again.status, 401, 'replayed')
    t.match(again.header('www-authenticate')[0], /^DPoP .*already used/)

    const envoyProof = client.proof('POST', 'https://orders.example.com/orders', { accessToken: bound })
    const viaEnvoy = await raw(envoy('POST', '/orders', [`Authorization: DPoP ${bound}`, `DPoP: ${envoyProof}`]))
    t.equal(viaEnvoy.status, 200, 'Envoy: htu from X-Forwarded-Proto, Host and the path after the prefix')
  },
)

t.test(
  'Traefik without authRequestHeaders copies every client header: an added X-Original-URI is refused',
  async (t) => {
    const res = await raw(
      traefik('GET', '/orders/7', [`Authorization: Bearer ${await token(READER)}`], ['X-Original-URI: /health']),
    )
    t.equal(res.status, 401, 'not the public answer for /health')
    t.match(JSON.parse(res.body).error_description, /name different URIs/)
  },
)

t.test('Envoy ext_authz: the original method and path, any method; policy by the path after the prefix', async (t) => {
  const writer = await token()
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'PURGE']) {
    const res = await raw(envoy(method, '/orders/7?x=1', [`Authorization: Bearer ${writer}`]))
    t.equal(res.status, 200, method)
    t.same(res.header('x-auth-subject'), [SERVICE.id])
  }
  const reader = await token(READER)
  t.equal((await raw(envoy('DELETE', '/orders/7', [`Authorization: Bearer ${reader}`]))).status, 403)
  t.equal((await raw(envoy('GET', '/health', []))).status, 200, 'public')
  const refused = await raw(envoy('GET', '/orders', []))
  t.equal(refused.status, 401)
  t.match(refused.header('www-authenticate')[0], /^Bearer realm="https:\/\/orders.example.com"/)
})

t.test('whatever arrives on the socket, /verify and /ext-authz answer 200, 401 or 403', async (t) => {
  const good = await token()
  const requests: [string, string | Buffer][] = [
    ['headers over 64 KiB', http(['GET /verify HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(70_000)}`])],
    ['a request line over 64 KiB', http([`GET /ext-authz/${'a'.repeat(70_000)} HTTP/1.1`, 'Host: x'])],
    ['an unknown method', http(['FROB /verify HTTP/1.1', 'Host: x'])],
    ['a broken request line', 'GET /verify\r\n\r\n'],
    ['two Content-Lengths', http(['POST /verify HTTP/1.1', 'Host: x', 'Content-Length: 1', 'Content-Length: 2'])],
    [
      'Transfer-Encoding and Content-Length',
      http(['POST /verify HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 3']),
    ],
    ['a NUL in a header', http(['GET /verify HTTP/1.1', 'Host: x', 'X-Forwarded-Uri: /a\u0000b'])],
    ['a malformed escape in the path', http(['GET /ext-authz/%zz HTTP/1.1', 'Host: orders.example.com'])],
    ['a bad Host', http(['GET /ext-authz/orders HTTP/1.1', 'Host: a b', 'X-Forwarded-Proto: https'])],
    ['a bracketed Host', http(['GET /ext-authz/orders HTTP/1.1', 'Host: [zz]', 'X-Forwarded-Proto: https'])],
    [
      'UTF-8 in Host',
      Buffer.from(http(['GET /ext-authz/orders HTTP/1.1', 'Host: ünï.example', 'X-Forwarded-Proto: https'])),
    ],
    ['no Host, HTTP/1.0', 'GET /ext-authz/orders HTTP/1.0\r\n\r\n'],
    [
      'X-Original-URL that is no URL',
      http(['GET /verify HTTP/1.1', 'Host: x', 'X-Original-Method: GET', 'X-Original-URL: nope']),
    ],
    ['a garbage token', traefik('GET', '/orders', ['Authorization: Bearer ...'])],
    ['a huge token', traefik('GET', '/orders', [`Authorization: Bearer ${'a'.repeat(40_000)}`])],
    ['DPoP without a proof', traefik('GET', '/orders', [`Authorization: DPoP ${good}`])],
    ['two DPoP proofs', traefik('GET', '/orders', [`Authorization: DPoP ${good}`, 'DPoP: a.b.c', 'DPoP: d.e.f'])],
    [
      'a broken chunked body',
      `${http(['POST /ext-authz/orders HTTP/1.1', 'Host: o.example', 'X-Forwarded-Proto: https', 'Transfer-Encoding: chunked'])}zz\r\n`,
    ],
    ['HEAD', http(['HEAD /verify HTTP/1.1', 'Host: x'])],
  ]
  for (const [what, request] of requests) {
    const res = await raw(request)
    t.ok([200, 401, 403].includes(res.status), `${what}: ${res.status}`)
  }
  const huge = await raw(http(['GET /verify HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(70_000)}`]))
  t.match(
    huge.header('www-authenticate')[0],
    /error="invalid_request", error_description="the request headers are too large"/,
  )
  t.equal((await fetch(`${gate.url}/healthz`)).status, 200, 'and the gate lives on')
})

t.test("`tollgate gate` (the auth server's CLI) runs the same gate", async (t) => {
  const viaCli = await spawnService(`${ROOT}packages/auth-server/bin/tollgate.js`, {
    args: ['gate'],
    env: { ISSUER: stack.issuer, AUDIENCE, GATE_POLICY: policyFile },
  })
  stopWith(t, { 'tollgate gate': viaCli })
  const res = await fetch(`${viaCli.url}/verify`, {
    headers: {
      'x-original-method': 'GET',
      'x-original-url': 'https://orders.example.com/orders',
      authorization: `Bearer ${await token()}`,
    },
  })
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-auth-subject'), SERVICE.id)
})

t.test('a bad configuration stops the gate with one line naming it; so does a taken port', async (t) => {
  const run = (env: Record<string, string>) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(
        process.execPath,
        [`${ROOT}packages/gate/dist/server.bundle.js`],
        { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 30_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: stdout + stderr }),
      )
    })
  const typo = await writeFile(
    policyFile.replace('policy.json', 'typo.json'),
    '{"rules":[{"path":"/a","scope":["x"]}]}',
  ).then(() => run({ GATE_POLICY: policyFile.replace('policy.json', 'typo.json'), PORT: '0' }))
  t.equal(typo.code, 1)
  t.match(
    typo.out,
    /^gate: invalid configuration: GATE_POLICY: .*typo\.json: rules\[0\]: unknown field "scope" \(did you mean "scopes"\?\)\n$/,
  )
  const taken = await run({ PORT: String(gate.port), ISSUER: stack.issuer })
  t.equal(taken.code, 1)
  t.match(
    taken.out,
    new RegExp(`^gate: PORT=${gate.port}: the port is already in use \\(set PORT to another port\\)\n$`),
  )
})
