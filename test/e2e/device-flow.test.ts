// RFC 8628 end to end: unmodified openid-client asks for a device code and polls; a person approves in real Chromium;
// `tollgate login` signs in from a terminal and keeps only the refresh token, in a 0600 file (issue 29).
import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import * as oidc from 'openid-client'
import t from 'tap'
import { launchBrowser } from '../support/browser.js'
import { ALICE, bootstrapDir } from '../support/fixtures.js'
import { freePort } from '../support/ports.js'
import { startProcess, stopWith } from '../support/processes.js'
import { ROOT, startAuthServer } from '../support/services.js'

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code'
const CLI = { id: 'deploy-cli', name: 'Deploy CLI' }

// The e2e fixtures' bootstrap file, plus a public CLI client with the device grant.
const { dir, file, keysDir } = await bootstrapDir('https://deploy.example')
const doc = JSON.parse(await readFile(file, 'utf8')) as { clients: unknown[] }
doc.clients.push({
  client_id: CLI.id,
  public: true,
  name: CLI.name,
  grant_types: [DEVICE_CODE, 'refresh_token'],
  scopes: ['openid', 'profile', 'deploy'],
  audiences: ['https://deploy.example'],
})
await writeFile(file, JSON.stringify(doc))
const port = await freePort()
const issuer = `http://127.0.0.1:${port}`
const auth = await startAuthServer({
  port,
  env: { ISSUER: issuer, BOOTSTRAP_FILE: file, KEYS_DIR: keysDir, DEVICE_POLL_INTERVAL: '1' },
})
stopWith(t, { 'the auth server': auth })
const browser = await launchBrowser()
t.teardown(() => browser.close())

/** A person on another machine: opens the link, signs in, and allows (or denies) the device. */
async function approveInBrowser(url: string, decision: 'Allow' | 'Deny') {
  const page = await browser.newPage()
  try {
    await page.goto(url)
    await page.getByLabel('Username').fill(ALICE.username)
    await page.getByLabel('Password').fill(ALICE.password)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('heading', { name: new RegExp(`Allow ${CLI.name}`) }).waitFor({ timeout: 10_000 })
    const shown = await page.locator('main').innerText()
    await page.getByRole('button', { name: decision }).click()
    await page.getByRole('heading', { name: decision === 'Allow' ? 'Device connected' : 'Request denied' }).waitFor({
      timeout: 10_000,
    })
    return shown
  } finally {
    await page.close()
  }
}

t.test('openid-client: device authorization, approval in Chromium, tokens from polling', async (t) => {
  const config = await oidc.discovery(new URL(issuer), CLI.id, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  })
  const response = await oidc.initiateDeviceAuthorization(config, { scope: 'openid deploy' })
  t.match(response.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
  const polling = oidc.pollDeviceAuthorizationGrant(config, response)
  const shown = await approveInBrowser(response.verification_uri_complete as string, 'Allow')
  t.match(shown, /deploy/, 'the consent page lists what is asked for')
  t.match(shown, new RegExp(response.user_code), 'and the code, to compare with the device')
  const tokens = await polling
  t.equal(tokens.token_type.toLowerCase(), 'bearer')
  t.equal(tokens.scope, 'openid deploy')
  t.type(tokens.refresh_token, 'string')
  t.equal(tokens.claims()?.sub !== undefined, true, 'an ID token for the user')
  // The same code cannot be redeemed twice.
  await t.rejects(oidc.pollDeviceAuthorizationGrant(config, response), { error: 'invalid_grant' } as unknown as Error)
})

t.test('openid-client: a denied request ends the polling with access_denied', async (t) => {
  const config = await oidc.discovery(new URL(issuer), CLI.id, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  })
  const response = await oidc.initiateDeviceAuthorization(config, { scope: 'deploy' })
  const polling = oidc.pollDeviceAuthorizationGrant(config, response)
  await approveInBrowser(response.verification_uri_complete as string, 'Deny')
  await t.rejects(polling, { error: 'access_denied' } as unknown as Error)
})

/** Runs `tollgate login …` and approves the code it prints, over HTTP, like a person would in any browser. */
async function login(args: string[]) {
  const cli = startProcess(process.execPath, [`${ROOT}packages/auth-server/bin/tollgate.js`, 'login', ...args], {
    cwd: dir,
    env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config') },
  })
  t.teardown(() => cli.stop())
  for (let i = 0; i < 400 && !/enter the code\s+\S+/.test(cli.output()); i++)
    await new Promise((r) => setTimeout(r, 25))
  const link = /To sign in, open (\S+)/.exec(cli.output())?.[1] as string
  await approveInBrowser(link, 'Allow')
  const code = await cli.exited
  return { code, output: cli.output() }
}

t.test('tollgate login keeps nothing but the refresh token, in a file only its owner can read', async (t) => {
  const { code, output } = await login(['--issuer', issuer, '--client-id', CLI.id, '--scope', 'deploy'])
  t.equal(code, 0, output)
  const stored = path.join(dir, 'config', 'tollgate', 'credentials.json')
  t.match(output, `kept in ${stored}`)
  t.equal((await stat(stored)).mode & 0o777, 0o600, 'mode 0600')
  t.equal((await stat(path.dirname(stored))).mode & 0o777, 0o700, 'its folder 0700')
  const { credentials } = JSON.parse(await readFile(stored, 'utf8')) as { credentials: Record<string, string>[] }
  t.equal(credentials.length, 1)
  t.same(Object.keys(credentials[0] ?? {}).sort(), ['client_id', 'issuer', 'refresh_token', 'saved_at', 'scope'])
  const refreshed = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: CLI.id,
      refresh_token: credentials[0]?.refresh_token as string,
    }),
  })
  t.equal(refreshed.status, 200, 'the kept refresh token works')
})

t.test('tollgate login --print prints the tokens and keeps nothing', async (t) => {
  const { code, output } = await login([
    '--issuer',
    issuer,
    '--client-id',
    CLI.id,
    '--print',
    '--file',
    path.join(dir, 'unused.json'),
  ])
  t.equal(code, 0, output)
  t.match(output, /"access_token": "ey/)
  await t.rejects(stat(path.join(dir, 'unused.json')), 'no file written')
})
