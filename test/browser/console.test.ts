/// <reference lib="dom" />
// The console (SPEC "The console") in real Chromium against the real auth server, resource API and Redis: an
// administrator signs in with the code flow (PKCE, DPoP), creates a client whose secret works at the token endpoint,
// edits it, rotates its secret, ends a user's session (the resource API refuses its token within a second), rotates a
// key and sees its state change, and sees each of these in the audit log live; a non-administrator gets nothing; two
// tabs editing one client get a conflict; the main pages by keyboard alone, axe-core in the page, and every page at
// 1280 and 390 px without sideways scrolling.
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { launchBrowser } from '../support/browser.js'
import { proofKey } from '../support/dpop.js'
import { startE2e } from '../support/e2e.js'
import { ALICE, BOB, tokenRequest, WEB } from '../support/fixtures.js'
import { submitLoginForm } from '../support/login-form.js'
import { ROOT, type Service } from '../support/services.js'

const KEY_PUBLISH_DELAY = 3
const stack = await startE2e(t, {
  api: true,
  env: { KEY_PUBLISH_DELAY: String(KEY_PUBLISH_DELAY), SIGNING_ALGS: 'RS256,ES256' },
})
const { issuer, tokenUrl, audience } = stack
const api = stack.api as Service
const CONSOLE = `${issuer}/console/`
const browser = await launchBrowser()
t.teardown(() => browser.close())
const ARTIFACTS = path.join(ROOT, 'test-artifacts')
await mkdir(ARTIFACTS, { recursive: true })
const AXE = await readFile(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8')

/** Console errors, page errors (a CSP refusal is one) and failed requests of a page. */
function watch(page: Page): string[] {
  const problems: string[] = []
  page.on('console', (msg) => {
    // The API's own refusals that the page shows (a validation error, a conflict) are logged by Chromium as failed
    // loads; they are expected answers, asserted where they happen.
    if (/Failed to load resource: the server responded with a status of (400|412)/.test(msg.text())) return
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  return problems
}

const ready = (page: Page) => page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 })

/** Signs in through the console's own button and the server's sign-in page; back on the console, ready. */
async function signIn(page: Page, user: { username: string; password: string }, at = CONSOLE): Promise<void> {
  await page.goto(at)
  await ready(page)
  await page.click('#sign-in')
  await page.waitForURL(`${issuer}/oauth/authorize?**`, { timeout: 10_000 })
  await page.fill('#username', user.username)
  await page.fill('#password', user.password)
  await page.click('button[type=submit]')
  await page.waitForURL(`${issuer}/console/**`, { timeout: 10_000 })
  await ready(page)
}

async function open(context: BrowserContext, user = ALICE, at = CONSOLE): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage()
  const problems = watch(page)
  await signIn(page, user, at)
  return { page, problems }
}

/** Goes to a console page by its link in the navigation, as a person would. */
async function go(page: Page, label: string): Promise<void> {
  await page.click(`#nav a:text-is("${label}")`)
  await page.waitForFunction((l) => document.querySelector('#nav a[aria-current="page"]')?.textContent === l, label)
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'))
}

t.test('the page: the console’s own scripts only, assets cached, no inline code', async (t) => {
  const res = await fetch(CONSOLE)
  t.equal(res.status, 200)
  const csp = res.headers.get('content-security-policy') ?? ''
  t.match(csp, /script-src 'self'(;|$)/, 'scripts from the server only')
  t.notMatch(csp, /unsafe-inline|unsafe-eval/)
  t.match(csp, /frame-ancestors 'none'/)
  const html = await res.text()
  t.notMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script')
  t.notMatch(html, /\sstyle=|<style/, 'no inline style')
  const script = /src="([^"]+\.js)"/.exec(html)?.[1] as string
  const asset = await fetch(new URL(script, issuer), { headers: { 'accept-encoding': 'br' } })
  t.equal(asset.status, 200)
  t.match(asset.headers.get('cache-control'), /immutable/, 'a hashed asset is cached for good')
  t.equal(asset.headers.get('content-encoding'), 'br', 'precompressed')
  t.equal((await fetch(`${issuer}/console/clients/anything`)).status, 200, 'every console path is the app')
  const redirect = await fetch(`${issuer}/console`, { redirect: 'manual' })
  t.equal(redirect.headers.get('location'), '/console/')
})

t.test('a first visit: no errors, a sign-in button, no request that must fail', async (t) => {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  const problems = watch(page)
  const failed: string[] = []
  page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`))
  await page.goto(CONSOLE)
  await ready(page)
  await page.waitForLoadState('networkidle')
  t.same(problems, [])
  t.same(failed, [])
  t.equal(await page.locator('#sign-in').innerText(), 'Sign in')
})

t.test('a non-administrator cannot open the console’s data', async (t) => {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  const problems = watch(page)
  const adminCalls: string[] = []
  page.on('request', (r) => r.url().includes('/admin/v1/') && adminCalls.push(r.url()))
  const token = page.waitForResponse((r) => r.url() === tokenUrl && r.request().method() === 'POST')
  const pushed = page.waitForResponse((r) => r.url() === `${issuer}/oauth/par`)
  await signIn(page, BOB)
  t.equal((await pushed).status(), 201, 'the console pushed its authorization request (PAR)')
  const granted = (await (await token).json()) as { scope: string }
  t.notMatch(granted.scope, /tollgate:admin/, 'the console’s client hands bob no admin scope')
  t.equal(await page.locator('h1').innerText(), 'Administrators only')
  t.match(await page.locator('[role=alert]').innerText(), /not an administrator/)
  t.equal(await page.locator('#nav').isHidden(), true, 'no navigation')
  t.same(adminCalls, [], 'the console asks the admin API nothing for him')
  t.same(problems, [])

  // And the server refuses him whatever he asks for: a code flow of his own for the console's client, asking for the
  // admin scope with the issuer as resource, DPoP-bound, then the admin API.
  const key = proofKey()
  const verifier = randomBytes(32).toString('base64url')
  const authorize = new URL(`${issuer}/oauth/authorize`)
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'tollgate-console',
    redirect_uri: `${CONSOLE}callback`,
    scope: 'openid tollgate:admin',
    resource: issuer,
    state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    dpop_jkt: key.jkt,
  }).toString()
  const back = await submitLoginForm(authorize, BOB.username, BOB.password)
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: key.proof('POST', tokenUrl) },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: 'tollgate-console',
      code: back.searchParams.get('code') as string,
      redirect_uri: `${CONSOLE}callback`,
      code_verifier: verifier,
    }),
  })
  const body = (await res.json()) as { access_token: string; scope: string }
  t.equal(res.status, 200)
  t.equal(body.scope.includes('tollgate:admin'), false)
  const url = `${issuer}/admin/v1/clients`
  const refused = await fetch(url, {
    headers: {
      authorization: `DPoP ${body.access_token}`,
      dpop: key.proof('GET', url, { accessToken: body.access_token }),
    },
  })
  t.equal(refused.status, 403, 'the admin API refuses his token')
})

const admin = await browser.newContext({ viewport: { width: 1280, height: 900 } })
t.teardown(() => admin.close())
let tab: Page
let problems: string[]
let audit: { page: Page; problems: string[] }
t.test('an administrator signs in, in two tabs: one to act, one following the audit log', async (t) => {
  ;({ page: tab, problems } = await open(admin))
  audit = await open(admin, ALICE, `${CONSOLE}audit`)
  await audit.page.waitForFunction(() =>
    document.querySelector('[data-testid=live-state]')?.textContent?.startsWith('Following live'),
  )
  t.equal(await tab.locator('[data-testid=who]').innerText(), 'Alice')
})
/** The audit tab shows an event of this type (and target) that arrived live, without a reload. */
const seenLive = (type: string, target?: string) =>
  audit.page.waitForFunction(
    ([type, target]) =>
      Array.from(document.querySelectorAll(`tr.new[data-event="${type}"]`)).some(
        (row) => !target || row.textContent?.includes(target as string),
      ),
    [type, target],
    { timeout: 10_000 },
  )

let secret = ''
t.test(
  'an administrator creates a client; its secret works at the token endpoint; it shows live in the audit log',
  async (t) => {
    await go(tab, 'Clients')
    await tab.click('text=New client')
    await tab.waitForSelector('form.editor')
    await tab.fill('[data-field=client_id] input', 'console-made')
    await tab.fill('[data-field=name] input', 'Made in the console')
    await tab.check('[data-field=grant_types] input[value=client_credentials]')
    await tab.fill('[data-field=scopes] textarea', 'notes:read')
    // A mistake first: the API's message appears next to the field it names.
    await tab.fill('[data-field=audiences] textarea', 'not-a-uri')
    await tab.click('button:text("Create client")')
    await tab.waitForSelector('[data-field=audiences] .field-error:not([hidden])')
    t.match(
      await tab.locator('[data-field=audiences] .field-error').innerText(),
      /audiences: "not-a-uri" is not an absolute URI/,
    )
    t.equal(await tab.locator('[data-field=audiences] textarea').getAttribute('aria-invalid'), 'true')
    await tab.fill('[data-field=audiences] textarea', audience)
    await tab.click('button:text("Create client")')
    await tab.waitForSelector('[data-testid=secret]')
    secret = await tab.locator('[data-testid=secret]').innerText()
    t.match(secret, /^\S{32,}$/)
    const token = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, { id: 'console-made', secret })
    t.equal(token.status, 200, 'the secret works')
    t.equal(token.body.scope, 'notes:read')
    await seenLive('client.created', 'console-made')
    t.pass('client.created arrived live')
  },
)

t.test('edits it; the change shows live', async (t) => {
  await tab.click('a:text("Continue to console-made")')
  await tab.waitForSelector('form.editor [data-field=name] input')
  await tab.fill('[data-field=name] input', 'Orders reporting')
  await tab.fill('[data-field=scopes] textarea', 'notes:read\nnotes:write')
  await tab.click('button:text("Save changes")')
  await tab.waitForFunction(() => document.querySelector('[data-testid=save-status]')?.textContent?.startsWith('Saved'))
  t.equal(await tab.locator('[data-testid=save-status]').innerText(), 'Saved (name, scopes).')
  const token = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, { id: 'console-made', secret })
  t.equal(token.body.scope, 'notes:read notes:write', 'the token endpoint sees the change')
  await seenLive('client.updated', 'console-made')
})

t.test('rotates its secret: the old one stops working, the new one works', async (t) => {
  await tab.click('#rotate-secret')
  await tab.waitForSelector('dialog[open]')
  t.equal(await tab.evaluate(() => document.activeElement?.textContent), 'Cancel', 'the safe answer is focused')
  await tab.click('dialog[open] button:text("Rotate secret")')
  await tab.waitForSelector('[data-testid=secret]')
  const fresh = await tab.locator('[data-testid=secret]').innerText()
  t.not(fresh, secret)
  const old = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, { id: 'console-made', secret })
  t.equal(old.status, 401, 'the old secret is refused')
  const now = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, { id: 'console-made', secret: fresh })
  t.equal(now.status, 200, 'the new one works')
  secret = fresh
  await seenLive('client.secret_rotated', 'console-made')
})

t.test('ends a user’s session: the resource API refuses its token within a second', async (t) => {
  const login = await tokenRequest(tokenUrl, {
    grant_type: 'password',
    client_id: WEB.id,
    username: BOB.username,
    password: BOB.password,
    scope: 'openid notes:read',
  })
  const bearer = login.body.access_token as string
  const sid = JSON.parse(Buffer.from(bearer.split('.')[1] as string, 'base64url').toString()).sid as string
  const me = () => fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${bearer}` } }).then((r) => r.status)
  t.equal(await me(), 200)
  await go(tab, 'Users')
  await tab.click('a:has-text("bob")')
  const end = `[data-testid=sessions] button[data-session="${sid}"]`
  await tab.waitForSelector(end)
  const ended = tab.waitForResponse((r) => r.url().includes('/admin/v1/sessions/') && r.request().method() === 'DELETE')
  await tab.click(end)
  t.equal((await ended).status(), 204)
  const from = Date.now()
  let status = await me()
  while (status !== 401 && Date.now() - from < 3_000) status = await me()
  const lag = Date.now() - from
  t.equal(status, 401, 'refused')
  t.ok(lag <= 1_000, `within a second (${lag} ms)`)
  await tab.waitForSelector(end, { state: 'detached' })
  t.equal(await tab.locator('[data-testid=user-sessions-status]').innerText(), 'Session ended.')
  await seenLive('session.revoked')
})

t.test('rotates a key and sees its state change: next, then active while the old one retires', async (t) => {
  await go(tab, 'Signing keys')
  const section = tab.locator('[data-testid=keys-RS256]')
  const before = await section.locator('[data-kid]').allInnerTexts()
  t.equal(before.length, 1)
  await section.locator('button:text("Rotate the RS256 key")').click()
  await tab.click('dialog[open] button:text("Rotate RS256 key")')
  await tab.waitForFunction(() =>
    document.querySelector('[data-testid=keys-status]')?.textContent?.startsWith('New RS256 key'),
  )
  await tab.waitForSelector('[data-testid=keys-RS256] .state-pending')
  const added = (await section.locator('tr:has(.state-pending) [data-kid]').innerText()).trim()
  t.not(added, before[0])
  // The page looks again when the new key's date comes: it becomes active, the old one retiring.
  await tab.waitForSelector('[data-testid=keys-RS256] tr:has(.state-active) [data-kid]', { timeout: 1_000 })
  await tab.waitForFunction(
    (kid) => document.querySelector('[data-testid=keys-RS256] tr:has(.state-active) [data-kid]')?.textContent === kid,
    added,
    { timeout: (KEY_PUBLISH_DELAY + 5) * 1000 },
  )
  t.equal(
    (await section.locator('tr:has(.state-verifying) [data-kid]').innerText()).trim(),
    before[0],
    'the old key retires',
  )
  const es256 = tab.locator('[data-testid=keys-ES256]')
  t.equal(await es256.locator('.state-active').count(), 1, 'the ES256 key is shown, in its own section, untouched')
  t.equal(await es256.locator('.state-pending').count(), 0)
  t.equal(await es256.locator('button:text("Rotate the ES256 key")').count(), 1, 'and rotates on its own')
  await seenLive('key.rotated', added)
})

t.test('every action came live to the audit tab, and neither tab had an error', async (t) => {
  const live = await audit.page
    .locator('tr.new')
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.event))
  for (const type of ['client.created', 'client.updated', 'client.secret_rotated', 'session.revoked', 'key.rotated']) {
    t.ok(live.includes(type), type)
  }
  t.same(problems, [])
  t.same(audit.problems, [])
})

t.test('two tabs editing one client: the second save is a conflict, not a lost update', async (t) => {
  const other = await open(admin, ALICE, `${CONSOLE}clients/console-made`)
  await tab.goto(`${CONSOLE}clients/console-made`)
  await ready(tab)
  await tab.waitForSelector('[data-field=name] input')
  await other.page.waitForSelector('[data-field=name] input')
  await other.page.fill('[data-field=name] input', 'Renamed in tab two')
  await other.page.click('button:text("Save changes")')
  await other.page.waitForFunction(() =>
    document.querySelector('[data-testid=save-status]')?.textContent?.startsWith('Saved'),
  )
  await tab.fill('[data-field=scopes] textarea', 'notes:read')
  const answer = tab.waitForResponse(
    (r) => r.url().endsWith('/admin/v1/clients/console-made') && r.request().method() === 'PATCH',
  )
  await tab.click('button:text("Save changes")')
  t.equal((await answer).status(), 412)
  await tab.waitForSelector('[data-testid=conflict]')
  t.match(await tab.locator('[data-testid=conflict]').innerText(), /Conflict: this client was changed by someone else/)
  t.equal(await tab.evaluate(() => document.activeElement?.getAttribute('role')), 'alert', 'the conflict has the focus')
  t.equal(await tab.locator('[data-field=scopes] textarea').inputValue(), 'notes:read', 'the edit is still in the form')
  const token = await tokenRequest(tokenUrl, { grant_type: 'client_credentials' }, { id: 'console-made', secret })
  t.equal(token.body.scope, 'notes:read notes:write', 'the stale edit changed nothing')
  await tab.click('button:text("Load the latest version")')
  await tab.waitForFunction(
    () =>
      (document.querySelector('[data-field=name] input') as HTMLInputElement | null)?.value === 'Renamed in tab two',
  )
  t.pass('the latest version shows the other tab’s change')
  t.same(other.problems, [])
  await other.page.close()
})

/** Presses Tab until `want` holds for the focused element; every element on the way shows its focus. */
async function tabTo(t: Test, page: Page, want: string, selector: string, back = false, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab')
    const focus = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null
      if (!el || el === document.body) return null
      const style = getComputedStyle(el)
      return {
        tag: el.tagName,
        text: el.textContent?.trim().slice(0, 40) ?? '',
        visible: style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2,
      }
    })
    if (focus && !focus.visible) t.fail(`${focus.tag} "${focus.text}" has no visible focus`)
    if (await page.evaluate((s) => document.activeElement?.matches(s) === true, selector)) return
  }
  t.fail(`Tab never reached ${want}`)
}

t.test('keyboard only: the main pages, a client, a dialog and back', async (t) => {
  const page = tab
  await page.goto(CONSOLE)
  await ready(page)
  await tabTo(t, page, 'the skip link', '.skip')
  await page.keyboard.press('Enter')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'main', 'skip to content')
  for (const [label, path] of [
    ['Clients', 'clients'],
    ['Users', 'users'],
    ['Sessions', 'sessions'],
    ['Signing keys', 'keys'],
    ['Audit log', 'audit'],
  ] as const) {
    // From the page's heading, back to the navigation.
    await tabTo(t, page, `the ${label} link`, `#nav a[data-section="${path}"]`, true)
    await page.keyboard.press('Enter')
    await page.waitForURL(`${CONSOLE}${path}**`)
    t.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', `${label}: the heading has the focus`)
    await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'))
  }
  await page.goto(`${CONSOLE}clients`)
  await ready(page)
  await tabTo(t, page, 'the search box', '#client-search')
  await page.keyboard.type('console-made')
  await page.keyboard.press('Enter')
  await page.waitForSelector('[data-testid=clients] a')
  await tabTo(t, page, 'the client', '[data-testid=clients] a')
  await page.keyboard.press('Enter')
  await page.waitForURL(`${CONSOLE}clients/console-made`)
  await page.waitForSelector('#rotate-secret')
  await tabTo(t, page, 'Rotate secret', '#rotate-secret')
  await page.keyboard.press('Enter')
  await page.waitForSelector('dialog[open]')
  await page.keyboard.press('Escape')
  await page.waitForSelector('dialog', { state: 'detached' })
  t.equal(
    await page.evaluate(() => document.activeElement?.id),
    'rotate-secret',
    'Escape cancels; the focus comes back',
  )
  await tabTo(t, page, 'the name field', '[data-field=name] input')
  await page.keyboard.press('End')
  await page.keyboard.type(' (keyboard)')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() =>
    document.querySelector('[data-testid=save-status]')?.textContent?.startsWith('Saved'),
  )
  t.pass('saved from the keyboard')
})

const PAGES = [
  ['overview', ''],
  ['clients', 'clients'],
  ['client', 'clients/console-made'],
  ['new-client', 'clients/new'],
  ['users', 'users'],
  ['sessions', 'sessions'],
  ['keys', 'keys'],
  ['audit', 'audit'],
] as const

async function settled(page: Page, path: string): Promise<void> {
  await page.goto(`${CONSOLE}${path}`)
  await ready(page)
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'))
}

t.test('axe-core finds no serious or critical problem on any page', async (t) => {
  const page = tab
  for (const [name, path] of PAGES) {
    await settled(page, path)
    await page.evaluate(AXE)
    const violations = await page.evaluate(async () => {
      const axe = (
        window as unknown as {
          axe: {
            run(ctx: Document): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>
          }
        }
      ).axe
      const result = await axe.run(document)
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
    })
    t.same(violations, [], name)
  }
})

for (const width of [1280, 390]) {
  t.test(`at ${width} px every page fits the screen`, async (t) => {
    const context = await browser.newContext({ viewport: { width, height: width === 390 ? 844 : 900 } })
    t.teardown(() => context.close())
    const { page, problems } = await open(context)
    for (const [name, path] of PAGES) {
      await settled(page, path)
      const measured = await page.evaluate(() => {
        const root = document.documentElement
        const wide = Array.from(document.querySelectorAll('body *'))
          .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 0.5)
          .slice(0, 3)
          .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}`)
        return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide }
      })
      t.ok(
        measured.scrollWidth <= width && measured.scrollWidth <= measured.clientWidth,
        `${name}: ${measured.scrollWidth} px wide`,
        {
          wide: measured.wide,
        },
      )
      await page.screenshot({ path: path_(`console-${name}-${width}.png`), fullPage: true })
    }
    t.same(problems, [], 'no console errors')
  })
}

function path_(name: string): string {
  return path.join(ARTIFACTS, name)
}
