// The polyglot example (examples/polyglot): a Python standard-library service behind Debian's nginx and the gate,
// run as its README says, on free ports; and its nginx configuration is the one docs/gate.md shows.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { CLIENTS, startPolyglot, USER } from '../../examples/polyglot/run.mjs'
import { freePort } from '../support/ports.js'
import { documentedConfig } from '../support/proxies.js'
import { ROOT } from '../support/services.js'

interface Client {
  readonly client_id: string
  readonly client_secret: string
}
const lines: string[] = []
const ports = { nginx: await freePort(), app: await freePort(), gate: await freePort(), issuer: await freePort() }
const demo = await startPolyglot({ ports, log: (line: string) => lines.push(line) })
t.teardown(() => demo.close())

const [writer, reader] = CLIENTS as unknown as [Client, Client]
const token = async (client: Client) => {
  const res = await fetch(demo.issuer.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })
  return ((await res.json()) as { access_token: string }).access_token
}
const seenLines = () => lines.filter((l) => l.startsWith('app: {"method"'))

t.test('its nginx configuration is docs/gate.md’s, word for word', async (t) => {
  const example = await readFile(path.join(ROOT, 'examples/polyglot/orders.conf'), 'utf8')
  t.equal(example, await documentedConfig('nginx'))
})

t.test(
  'the README walk-through: create and list orders as a service; refused without the scope or a token',
  async (t) => {
    const w = await token(writer)
    const created = await fetch(`${demo.url}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w}`, 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'tea' }),
    })
    t.equal(created.status, 201)
    t.match(await created.json(), { order: { item: 'tea', for: 'orders-cli' } })
    const mine = await fetch(`${demo.url}/orders`, { headers: { authorization: `Bearer ${w}` } })
    t.match(await mine.json(), { orders: [{ item: 'tea', for: 'orders-cli' }] })

    const before = seenLines().length
    const r = await token(reader)
    const forbidden = await fetch(`${demo.url}/orders`, { method: 'POST', headers: { authorization: `Bearer ${r}` } })
    t.equal(forbidden.status, 403)
    t.match(forbidden.headers.get('www-authenticate'), /insufficient_scope/)
    t.equal((await fetch(`${demo.url}/orders`)).status, 401)
    t.equal(seenLines().length, before, 'the Python service saw neither')
    t.match(
      (await (await fetch(`${demo.url}/orders`, { headers: { authorization: `Bearer ${r}` } })).json()) as object,
      {
        orders: [],
      },
    )
  },
)

t.test('a user signs in; the service sees the user and the session, never a client-sent identity', async (t) => {
  const login = await fetch(demo.issuer.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'orders-web', ...USER, scope: 'orders:read' }),
  })
  t.equal(login.status, 200)
  const user = ((await login.json()) as { access_token: string }).access_token
  const { sub, sid } = JSON.parse(Buffer.from(user.split('.')[1] as string, 'base64url').toString())
  const res = await fetch(`${demo.url}/orders`, {
    headers: { authorization: `Bearer ${user}`, 'x-auth-subject': 'admin' },
  })
  t.match(await res.json(), { seen: { 'X-Auth-Subject': sub, 'X-Auth-Session': sid, 'X-Auth-Scope': 'orders:read' } })
  const open = await fetch(`${demo.url}/health`, { headers: { 'x-auth-subject': 'admin' } })
  t.match(await open.json(), { status: 'ok', seen: { 'X-Auth-Subject': null } })
})
