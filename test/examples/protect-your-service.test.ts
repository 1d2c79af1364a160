// docs/protect-your-service.md as written: its bootstrap file starts the quick-start auth server, its client gets a
// token, and the Express example (examples/express) accepts it and refuses everything else (issue 21). Only the ports
// differ from the page (free ones instead of 3000 and 4000).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { freePort } from '../support/ports.js'
import { stopWith } from '../support/processes.js'
import { ROOT, spawnService, startAuthServer } from '../support/services.js'

const page = await readFile(path.join(ROOT, 'docs/protect-your-service.md'), 'utf8')
const bootstrapText = /```json\n([\s\S]*?)```/.exec(page)?.[1] ?? ''
const bootstrap = JSON.parse(bootstrapText) as { clients: { client_id: string; client_secret: string }[] }
const client = bootstrap.clients[0] as { client_id: string; client_secret: string }

const authPort = await freePort()
const apiPort = await freePort()
const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-protect-'))
const file = path.join(dir, 'bootstrap.json')
await writeFile(file, bootstrapText.replaceAll('http://localhost:4000', `http://localhost:${apiPort}`))
const issuer = `http://localhost:${authPort}`
const auth = await startAuthServer({
  port: authPort,
  env: { ISSUER: issuer, BOOTSTRAP_FILE: file, KEYS_DIR: path.join(dir, 'keys') },
})
const api = await spawnService(`${ROOT}examples/express/server.mjs`, {
  port: apiPort,
  env: { ISSUER: issuer, AUDIENCE: `http://localhost:${apiPort}` },
  readyPath: null,
})
stopWith(t, { 'the auth server': auth, 'the Express example': api })
for (let i = 0; i < 200 && !/inventory \(Express\) on/.test(api.output()); i++)
  await new Promise((r) => setTimeout(r, 25))

const token = async () => {
  const res = await fetch(`${auth.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })
  t.equal(res.status, 200, 'the page’s client gets a token with the page’s secret')
  return ((await res.json()) as { access_token: string }).access_token
}

t.test('the Express example accepts the token for its audience and scope', async (t) => {
  const access = await token()
  const stock = await fetch(`${api.url}/stock`, { headers: { authorization: `Bearer ${access}` } })
  t.equal(stock.status, 200)
  t.same(((await stock.json()) as { caller: string }).caller, 'orders-svc')
  const me = await fetch(`${api.url}/me`, { headers: { authorization: `Bearer ${access}` } })
  t.equal(me.status, 200)
})

t.test('and refuses the RFC 6750 way: no token, a broken one', async (t) => {
  const none = await fetch(`${api.url}/stock`)
  t.equal(none.status, 401)
  t.match(none.headers.get('www-authenticate'), /^Bearer realm="http:\/\/localhost:\d+"/)
  t.notOk(((await none.json()) as { error?: string }).error, 'no error code without credentials (RFC 6750 §3.1)')
  const broken = await fetch(`${api.url}/stock`, {
    headers: { authorization: `Bearer ${(await token()).slice(0, -4)}AAAA` },
  })
  t.equal(broken.status, 401)
  t.match(broken.headers.get('www-authenticate'), /error="invalid_token"/)
})
