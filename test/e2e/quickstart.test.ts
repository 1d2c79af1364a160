// The README quick start: `pnpm start` brings up both services with no other setup (in-memory store, generated key, demo seed).
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { freePort } from '../support/ports.js'
import { startProcess, type TestProcess } from '../support/processes.js'
import { redisCli, startRedis } from '../support/redis.js'
import { ROOT } from '../support/services.js'

/** Runs scripts/start-all.mjs (what `pnpm start` runs after its build) on free ports; resolves once it says all is up. */
async function startAll(extra: Record<string, string> = {}) {
  const authPort = await freePort()
  const apiPort = await freePort()
  const webPort = await freePort()
  const keysDir = path.join(await mkdtemp(path.join(tmpdir(), 'tollgate-quickstart-')), 'keys')
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(REDIS|LOG_LEVEL)/.test(k)) env[k] = v
  const child: TestProcess = startProcess(process.execPath, ['scripts/start-all.mjs'], {
    cwd: ROOT,
    env: {
      ...env,
      AUTH_PORT: String(authPort),
      API_PORT: String(apiPort),
      WEB_PORT: String(webPort),
      KEYS_DIR: keysDir,
      ...extra,
    },
  })
  const deadline = Date.now() + 30_000
  while (!/Everything is up/.test(child.output()) && Date.now() < deadline && child.process.exitCode === null) {
    await new Promise((r) => setTimeout(r, 50))
  }
  return { child, authPort, apiPort, webPort, issuer: `http://localhost:${authPort}` }
}

const { child, apiPort, webPort, issuer } = await startAll()
t.teardown(() => child.stop())
const output = child.output()
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

t.test('issue 21: the banner comes last, once every service answers, and request logs stay quiet', async (t) => {
  const banner = output.indexOf('Tollgate demo mode')
  const up = output.indexOf('Everything is up. Open the demo web app')
  t.ok(banner > 0 && up > banner, 'the credentials are printed just before the "everything is up" line')
  t.notMatch(output.slice(banner), /^\[(auth|api |web )\]/m, 'nothing follows the banner but the "up" line')
  // Requests meanwhile (the page, the API) leave no log lines at the default level.
  await fetch(`http://127.0.0.1:${webPort}/`)
  await fetch(`${issuer.replace('localhost', '127.0.0.1')}/.well-known/openid-configuration`)
  await new Promise((r) => setTimeout(r, 200))
  t.notMatch(child.output(), /INFO: (incoming request|request completed)/, 'no per-request log lines')
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

t.test('issue 21: Ctrl-C stops every service and exits 0', async (t) => {
  const run = await startAll()
  t.teardown(() => run.child.stop('SIGKILL'))
  t.match(run.child.output(), /Everything is up/)
  // What a terminal does on Ctrl-C: SIGINT to the foreground process group (here: the script's own group).
  process.kill(-run.child.pid, 'SIGINT')
  t.equal(await run.child.exited, 0, run.child.output().slice(-500))
  t.notMatch(run.child.output(), /exited \(/, 'no service is reported as having died')
  const refused = await fetch(`http://127.0.0.1:${run.authPort}/healthz`).then(
    () => false,
    () => true,
  )
  t.ok(refused, 'the auth server is gone')
})

t.test('issue 21: with REDIS_URL the demo clients and user are written into that Redis, and say so', async (t) => {
  const redis = await startRedis({ private: true })
  t.teardown(() => redis.stop())
  const run = await startAll({ REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix })
  t.teardown(() => run.child.stop())
  const out = run.child.output()
  t.match(
    out,
    new RegExp(`demo clients and user were written into REDIS_URL \\(redis://127\\.0\\.0\\.1:${redis.port}\\)`),
  )
  const secret = /service client\s+demo-service \/ (\S+)/.exec(out)?.[1]
  t.ok(secret, out.slice(-1500))
  t.equal((await redisCli(redis.port, 'exists', `${redis.prefix}client:demo-service`)).trim(), '1')
  const res = await fetch(`http://127.0.0.1:${run.authPort}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`demo-service:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })
  t.equal(res.status, 200, 'the printed secret works')
})
