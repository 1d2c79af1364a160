// The README quick start: `pnpm start` brings up both services with no other setup (in-memory store, generated key, demo seed).
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { freePort } from '../support/ports.js'
import { ROOT } from '../support/services.js'

const authPort = await freePort()
const apiPort = await freePort()
const webPort = await freePort()
const keysDir = path.join(await mkdtemp(path.join(tmpdir(), 'tollgate-quickstart-')), 'keys')
const issuer = `http://localhost:${authPort}`
const env: Record<string, string> = {}
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('REDIS')) env[k] = v
const child = spawn(process.execPath, ['scripts/start-all.mjs'], {
  cwd: ROOT,
  env: { ...env, AUTH_PORT: String(authPort), API_PORT: String(apiPort), WEB_PORT: String(webPort), KEYS_DIR: keysDir },
  stdio: ['ignore', 'pipe', 'pipe'],
})
let output = ''
child.stdout.on('data', (d) => {
  output += d
})
child.stderr.on('data', (d) => {
  output += d
})
t.teardown(() => {
  child.kill('SIGTERM')
})

const deadline = Date.now() + 30_000
while (
  !(/service client\s+demo-service \/ \S+/.test(output) && /Demo web app: /.test(output)) &&
  Date.now() < deadline
) {
  await new Promise((r) => setTimeout(r, 50))
}
const secret = /service client\s+demo-service \/ (\S+)/.exec(output)?.[1]
const api = `http://127.0.0.1:${apiPort}`

t.test('the auth server prints demo credentials and warns that nothing is persisted', async (t) => {
  t.ok(secret, output)
  t.match(output, /in-memory store/)
  t.match(output, /curl -s -u demo-service:/)
  t.match(output, /confidential; client_credentials only/, 'the banner says which client does what')
  t.match(output, /public; password, refresh_token and authorization_code/)
  t.match(output, new RegExp(`API docs ${issuer}/docs · metrics ${issuer}/metrics`))
  t.match(output, /\[auth\] \[\d\d:\d\d:\d\d\] (INFO|WARN)/, 'logs are human-readable under pnpm start')
})

t.test('the password grant line of the banner works as printed (public client, no secret)', async (t) => {
  const line = /curl -s -d grant_type=password (.*) (http\S+)/.exec(output)
  t.ok(line, output)
  const fields = new URLSearchParams(
    [...(line?.[1] ?? '').matchAll(/-d (\S+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
  )
  fields.set('grant_type', 'password')
  const res = await fetch(`${issuer}/oauth/token`, { method: 'POST', body: fields })
  t.equal(res.status, 200, await res.clone().text())
})

t.test('a demo client_credentials token is accepted by the resource API', async (t) => {
  const tokenRes = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`demo-service:${secret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  })
  t.equal(tokenRes.status, 200)
  const { access_token } = (await tokenRes.json()) as { access_token: string }
  const res = await fetch(`${api}/v1/notes`, { headers: { authorization: `Bearer ${access_token}` } })
  t.equal(res.status, 200)
})

t.test('the demo web app is served and announced', async (t) => {
  t.match(output, new RegExp(`Demo web app: http://localhost:${webPort}`))
  const page = await fetch(`http://127.0.0.1:${webPort}/`)
  t.equal(page.status, 200)
  t.match(await page.text(), /Tollgate notes/)
  const config = (await (await fetch(`http://127.0.0.1:${webPort}/config.json`)).json()) as Record<string, string>
  t.same(config, { authUrl: issuer, apiUrl: `http://localhost:${apiPort}`, clientId: 'demo-web' })
})

t.test('a token signed by any other key is refused', async (t) => {
  const { privateKey } = await generateKeyPair('RS256')
  const now = Math.floor(Date.now() / 1000)
  const forged = await new SignJWT({
    iss: issuer,
    sub: 'demo-service',
    aud: `http://localhost:${apiPort}`,
    exp: now + 300,
    iat: now,
    jti: 'x',
    client_id: 'demo-service',
    scope: 'notes:read',
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'forged' })
    .sign(privateKey)
  const res = await fetch(`${api}/v1/notes`, { headers: { authorization: `Bearer ${forged}` } })
  t.equal(res.status, 401)
})
