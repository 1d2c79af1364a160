/// <reference lib="dom" />
// The demo web app in a real browser: sign-in, silent refresh, two tabs, HttpOnly cookie, logout, authorization code,
// and every page a user of the demo sees fitting a phone (320 and 390 px), messages next to what they are about.
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { launchBrowser } from '../support/browser.js'
import { ROOT } from '../support/services.js'
import { DEMO_USER, startStack } from '../support/stack.js'

const ACCESS_TOKEN_TTL = 2
const stack = await startStack({ ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL), REFRESH_REUSE_GRACE: '10' })
t.teardown(() => stack.stop())
const browser = await launchBrowser()
t.teardown(() => browser.close())
const ARTIFACTS = path.join(ROOT, 'test-artifacts')
await mkdir(ARTIFACTS, { recursive: true })

const text = (page: Page, selector: string) => page.locator(selector).innerText()

async function open(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  await page.goto(stack.webUrl)
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 })
  return page
}

async function signIn(page: Page): Promise<void> {
  await page.fill('#username', DEMO_USER.username)
  await page.fill('#password', DEMO_USER.password)
  await page.click('#login-form button[type=submit]')
  await page.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 })
}

/** Waits until this tab shows its own session in the list. */
async function currentSessionShown(page: Page): Promise<void> {
  await page.waitForSelector('#sessions tr.current button', { timeout: 10_000 })
}

/** The tokens a code-flow sign-in left in this tab (its refresh token is bound to the tab's key). */
async function codeSession(page: Page): Promise<{ refresh_token: string; id_token: string }> {
  const stored = await page.evaluate(() => sessionStorage.getItem('tollgate-demo:code-session') ?? 'null')
  return JSON.parse(stored) as { refresh_token: string; id_token: string }
}

const tryRefresh = (page: Page) =>
  page.evaluate(() =>
    window.demo.refresh().then(
      () => 'ok',
      (e: Error) => e.message,
    ),
  )

async function addNote(page: Page, note: string): Promise<void> {
  await page.fill('#note-text', note)
  await page.click('#note-form button[type=submit]')
  await page.waitForFunction((n) => document.querySelector('#notes')?.textContent?.includes(n), note, {
    timeout: 10_000,
  })
}

t.test('a first visit: no console errors, no failed requests, no refresh without a session', async (t) => {
  const fresh = await browser.newContext()
  t.teardown(() => fresh.close())
  const page = await fresh.newPage()
  const problems: string[] = []
  const requests: string[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('request', (req) => requests.push(req.url()))
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`)
  })
  await page.goto(stack.webUrl)
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 })
  await page.waitForLoadState('networkidle')
  t.same(problems, [], 'nothing went wrong')
  t.notOk(
    requests.some((u) => u.endsWith('/session/refresh')),
    'no refresh attempted without a session hint',
  )
  t.ok(
    requests.some((u) => u.endsWith('/favicon.svg')),
    'the favicon is served',
  )
  t.equal(await page.isVisible('#signed-out'), true)
})

const context = await browser.newContext()
t.teardown(() => context.close())
const tab1 = await open(context)
const refreshes: string[] = []
tab1.on('response', (res) => {
  if (res.url().endsWith('/session/refresh')) refreshes.push(String(res.status()))
})

t.test('sign in and see notes', async (t) => {
  t.equal(await tab1.isVisible('#signed-out'), true, 'starts signed out')
  await signIn(tab1)
  t.equal(await text(tab1, '#greeting'), 'Signed in as Alice')
  await addNote(tab1, 'buy milk')
  t.match(await text(tab1, '#notes'), 'buy milk')
  // The session list loads alongside the notes; wait for it rather than racing it.
  await tab1.waitForFunction(() => document.querySelector('#sessions')?.textContent?.includes('demo-web'), null, {
    timeout: 10_000,
  })
  t.match(await text(tab1, '#sessions'), /demo-web/)
})

t.test('the refresh token is never readable by the page', async (t) => {
  t.equal(await tab1.evaluate(() => document.cookie), '')
  // Web storage holds one hint ("a cookie session may exist"), nothing a thief could use.
  t.equal(
    await tab1.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })),
    '{"tollgate-demo:cookie-session":"1"}{}',
  )
  const cookies = await context.cookies(`${stack.authUrl}/session`)
  const session = cookies.find((c) => c.name === 'tg_session')
  t.ok(session, 'the browser holds the session cookie')
  t.equal(session?.httpOnly, true)
  t.equal(session?.sameSite, 'Strict')
  t.equal(session?.path, '/session')
  t.equal(session?.domain, 'localhost', 'host-only')
})

t.test('DPoP: a token copied out of the page is useless elsewhere; the key cannot be exported', async (t) => {
  // What a script injected into the page could read: the Authorization header of the page's own API call.
  const sent = tab1.waitForRequest((req) => req.url().startsWith(`${stack.apiUrl}/v1/notes`))
  await tab1.reload()
  await tab1.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 })
  const request = await sent
  const authorization = (await request.allHeaders()).authorization as string
  t.match(authorization, /^DPoP /, 'the page sends its token with the DPoP scheme')
  t.ok((await request.allHeaders()).dpop, 'and a proof')
  const token = authorization.slice(5)
  const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
  t.type(claims.cnf?.jkt, 'string', 'the token is bound to the page’s key')
  for (const header of [`DPoP ${token}`, `Bearer ${token}`]) {
    const replayed = await fetch(`${stack.apiUrl}/v1/notes`, { headers: { authorization: header } })
    t.equal(replayed.status, 401, `replayed from Node as ${header.split(' ')[0]}: refused`)
  }
  const replayedProof = await fetch(`${stack.apiUrl}/v1/notes`, {
    headers: { authorization, dpop: (await request.allHeaders()).dpop as string },
  })
  t.equal(replayedProof.status, 401, 'even with the page’s own proof, replayed')
  const exported = await tab1.evaluate(async () => {
    const dpop = '/dpop.js'
    const { keyPair } = (await import(dpop)) as { keyPair(): Promise<{ pair: CryptoKeyPair }> }
    const { pair } = await keyPair()
    return crypto.subtle.exportKey('jwk', pair.privateKey).then(
      () => 'exported',
      (err: Error) => err.name,
    )
  })
  t.equal(exported, 'InvalidAccessError', 'the private key stays inside WebCrypto')
})

t.test('past ACCESS_TOKEN_TTL the page keeps working through a silent refresh', async (t) => {
  const before = refreshes.length
  await tab1.waitForTimeout((ACCESS_TOKEN_TTL + 1) * 1000)
  await addNote(tab1, 'after expiry')
  t.ok(refreshes.length > before, 'a refresh happened')
  t.ok(refreshes.slice(before).every((s) => s === '200'))
  t.equal(await tab1.isVisible('#signed-in'), true)
})

t.test('a screenshot of the signed-in page listing notes', async (t) => {
  const file = path.join(ARTIFACTS, 'signed-in.png')
  await tab1.screenshot({ path: file, fullPage: true })
  t.match(await text(tab1, '#notes'), /buy milk[\s\S]*after expiry/)
})

let tab2: Page
t.test('a second tab is signed in by the cookie; both refreshing at the same moment stay signed in', async (t) => {
  tab2 = await open(context)
  await tab2.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 })
  for (let round = 0; round < 3; round++) {
    const results = await Promise.all(
      [tab1, tab2].map((p) =>
        p.evaluate(() =>
          window.demo.refresh().then(
            () => 'ok',
            (e: Error) => e.message,
          ),
        ),
      ),
    )
    t.same(results, ['ok', 'ok'], `round ${round}`)
  }
  await addNote(tab1, 'from tab one')
  await addNote(tab2, 'from tab two')
  await tab1.waitForTimeout((ACCESS_TOKEN_TTL + 1) * 1000)
  const [n1, n2] = await Promise.all(
    [tab1, tab2].map((p) => p.evaluate(() => window.demo.loadNotes().then((n) => n.length))),
  )
  t.equal(n1, n2)
  t.ok((n1 ?? 0) >= 4)
  t.match(stack.auth.output(), /^(?![\s\S]*refresh token reuse detected)/, 'no theft was detected')
})

t.test('ending another session from the list', async (t) => {
  const other = await browser.newContext()
  const page = await open(other)
  await signIn(page)
  await tab1.evaluate(() => window.demo.loadSessions())
  const rows = await tab1.locator('#sessions tr').count()
  t.equal(rows, 2, 'two sessions: this browser and the other one')
  await tab1.click('#sessions tr:not(.current) button')
  await tab1.waitForFunction(() => document.querySelectorAll('#sessions tr').length === 1, null, { timeout: 10_000 })
  t.equal(await tab1.locator('#end-current[open]').count(), 0, 'another session ends without a question')
  t.equal(await text(tab1, '#sessions-status'), 'Session ended.', 'said in the session list')
  const result = await page.evaluate(() =>
    window.demo.refresh().then(
      () => 'ok',
      (e: Error) => e.message,
    ),
  )
  t.equal(result, 'not signed in', 'the ended session cannot refresh')
  await other.close()
})

t.test('logout ends the session for every tab', async (t) => {
  await tab1.click('#logout')
  await tab1.waitForSelector('#signed-out:not([hidden])')
  t.equal((await context.cookies(`${stack.authUrl}/session`)).length, 0, 'cookie cleared')
  const result = await tab2.evaluate(() =>
    window.demo.refresh().then(
      () => 'ok',
      (e: Error) => e.message,
    ),
  )
  t.equal(result, 'not signed in')
  await tab1.reload()
  await tab1.waitForSelector('body[data-ready="true"]')
  t.equal(await tab1.isVisible('#signed-out'), true, 'still signed out after a reload')
})

t.test(
  'authorization code + PKCE: the sign-in page, then the demo signed in with that session; sign-out ends it (RP-initiated logout)',
  async (t) => {
    const fresh = await browser.newContext()
    t.teardown(() => fresh.close())
    const page = await open(fresh)
    await page.click('#code-login')
    await page.waitForURL(`${stack.authUrl}/oauth/authorize?**`)
    t.equal(await page.title(), 'Sign in')
    t.match(await text(page, 'main'), /continue to\s+Notes demo/)
    await page.screenshot({ path: path.join(ARTIFACTS, 'sign-in-page.png') })
    await page.fill('#username', DEMO_USER.username)
    await page.fill('#password', 'wrong password')
    await page.click('button[type=submit]')
    t.match(await text(page, '[role=alert]'), 'Invalid username or password')
    await page.fill('#password', DEMO_USER.password)
    await page.click('button[type=submit]')
    await page.waitForURL(`${stack.webUrl}/`)
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 })
    t.equal(await text(page, '#greeting'), 'Signed in as Alice', 'the demo continues, signed in')
    await addNote(page, 'from the code flow')
    await page.waitForFunction(() => document.querySelector('#sessions tr.current'), null, { timeout: 10_000 })
    const sessionId = await page.locator('#sessions tr.current button').getAttribute('data-session')
    t.ok(sessionId, 'the code-flow session is the current one')
    const stored = await page.evaluate(() => sessionStorage.getItem('tollgate-demo:code-session') ?? '')
    const { refresh_token } = JSON.parse(stored) as { refresh_token: string }
    const stolen = await fetch(`${stack.authUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'demo-web', refresh_token }),
    })
    t.equal(stolen.status, 400, 'its refresh token, copied out of the tab, is useless without the page’s key')
    t.equal(((await stolen.json()) as { error: string }).error, 'invalid_dpop_proof')

    await page.reload()
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 })
    t.pass('a reload resumes the same session')

    // Signing in with the code flow again in this tab replaces the session; the old one is ended, not orphaned.
    await page.evaluate(() =>
      (window.demo as unknown as { auth: { startCodeFlow(): Promise<void> } }).auth.startCodeFlow(),
    )
    await page.waitForURL(`${stack.authUrl}/oauth/authorize?**`)
    await page.fill('#username', DEMO_USER.username)
    await page.fill('#password', DEMO_USER.password)
    await page.click('button[type=submit]')
    await page.waitForURL(`${stack.webUrl}/`)
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 })
    const after = await page.evaluate(() =>
      window.demo.loadSessions().then((list) => list.map((s) => s as { id: string; current: boolean })),
    )
    t.notOk(
      after.some((s) => s.id === sessionId),
      'the first code-flow session was ended',
    )
    const current = after.find((s) => s.current)?.id
    t.ok(current, 'the new one is current')

    await page.click('#logout')
    await page.waitForURL(`${stack.webUrl}/`)
    await page.waitForFunction(
      () => document.querySelector('#signed-out-status')?.textContent === 'Signed out.',
      null,
      { timeout: 10_000 },
    )
    t.equal(await page.isVisible('#signed-out'), true)
    t.equal(new URL(page.url()).search, '', 'the state is not left in the address bar')

    // No orphan: signed in again elsewhere, the session list no longer has the code-flow session.
    const check = await browser.newContext()
    t.teardown(() => check.close())
    const other = await open(check)
    await signIn(other)
    const ids = await other.evaluate(() =>
      window.demo.loadSessions().then((list) => list.map((s) => (s as { id: string }).id)),
    )
    t.notOk(ids.includes(current as string), 'the code-flow session has ended')
  },
)

t.test("ending this browser's session from the list asks first; cancelling keeps it", async (t) => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } })
  t.teardown(() => ctx.close())
  const page = await open(ctx)
  const problems: string[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  await signIn(page)
  await currentSessionShown(page)
  const end = page.locator('#sessions tr.current button')
  const id = await end.getAttribute('data-session')
  t.equal(await end.getAttribute('aria-label'), 'End the session in this browser', 'the button says which session')

  const asked = async () => {
    await end.click()
    await page.waitForSelector('#end-current[open]', { timeout: 10_000 })
    t.equal(await page.evaluate(() => document.querySelector('#end-current')?.matches(':modal')), true, 'a modal')
    t.match(await text(page, '#end-current'), /Sign out of this browser\?/)
    t.equal(
      await page.evaluate(() => document.activeElement?.id),
      'end-current-cancel',
      'the safe answer has the focus',
    )
  }
  const stillSignedIn = async (how: string) => {
    await page.waitForSelector('#end-current[open]', { state: 'detached', timeout: 10_000 })
    t.equal(await page.isVisible('#signed-in'), true, `${how}: still signed in`)
    t.equal(
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.session),
      id ?? undefined,
      `${how}: the focus is back on the End button`,
    )
    t.equal(await tryRefresh(page), 'ok', `${how}: the session still works`)
    const ids = await page.evaluate(() =>
      window.demo.loadSessions().then((list) => list.map((s) => (s as { id: string }).id)),
    )
    t.ok(ids.includes(id as string), `${how}: the session is still listed`)
  }

  await asked()
  await page.click('#end-current-cancel')
  await stillSignedIn('Cancel')
  await asked()
  await page.keyboard.press('Escape')
  await stillSignedIn('Escape')

  await asked()
  await page.click('#end-current-confirm')
  await page.waitForSelector('#signed-out:not([hidden])', { timeout: 10_000 })
  t.match(await text(page, '#signed-out-status'), 'You ended the session in this browser')
  t.equal(await page.evaluate(() => document.activeElement?.id), 'signed-out-status', 'the focus goes to the message')
  t.same(problems, [], 'no console errors (a CSP-blocked dialog form would be one)')
  t.equal(await tryRefresh(page), 'not signed in', 'confirmed: the session has ended')
})

t.test('the message about a note appears right under the note form, in view on a phone', async (t) => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } })
  t.teardown(() => ctx.close())
  const page = await open(ctx)
  await signIn(page)
  await currentSessionShown(page)
  // Enough notes that the end of the page is far below the fold.
  for (let i = 0; i < 8; i++) await addNote(page, `phone note ${i}`)
  const status = page.locator('#note-status')
  await page.waitForFunction(() => document.querySelector('#note-status')?.textContent === 'Note added.', null, {
    timeout: 10_000,
  })
  t.equal(await status.getAttribute('role'), 'status', 'announced to screen readers')
  const place = await page.evaluate(() => {
    const message = (document.querySelector('#note-status') as HTMLElement).getBoundingClientRect()
    const input = (document.querySelector('#note-text') as HTMLElement).getBoundingClientRect()
    return { top: message.top, bottom: message.bottom, below: message.top - input.bottom, height: innerHeight }
  })
  t.ok(
    place.top >= 0 && place.bottom <= place.height,
    `in the viewport (${place.top}–${place.bottom} of ${place.height})`,
  )
  t.ok(place.below >= 0 && place.below < 64, `right under the input (${place.below} px)`)
  t.ok(
    (await page.evaluate(() => document.documentElement.scrollHeight)) > place.height,
    'the page is taller than the screen',
  )
  await page.fill('#note-text', 'next')
  t.equal(await status.textContent(), '', 'the message goes once the next note is being written')
})

/** The "this browser" pill in the session list is one piece on one line, on the screen. */
async function pillOnOneLine(t: Test, page: Page): Promise<void> {
  const pill = await page.evaluate(() => {
    const el = document.querySelector('#sessions tr.current .pill') as HTMLElement
    const range = document.createRange()
    range.selectNodeContents(el)
    return { text: el.textContent, lines: range.getClientRects().length, right: el.getBoundingClientRect().right }
  })
  const width = page.viewportSize()?.width as number
  t.equal(pill.text, 'this browser')
  t.equal(pill.lines, 1, `${width} px: the "this browser" pill is on one line`)
  t.ok(pill.right <= width, `${width} px: and on the screen`)
}

/** The page is no wider than the viewport: nothing makes it scroll sideways. */
async function fits(t: Test, page: Page, state: string): Promise<void> {
  const width = page.viewportSize()?.width as number
  const measured = await page.evaluate(() => {
    const root = document.documentElement
    // What sticks out, to name it when this fails.
    const wide = Array.from(document.querySelectorAll('body *'))
      .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 0.5)
      .slice(0, 3)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}`)
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide }
  })
  t.ok(
    measured.scrollWidth <= width && measured.scrollWidth <= measured.clientWidth,
    `${width} px, ${state}: ${measured.scrollWidth} px wide`,
    { wide: measured.wide },
  )
}

for (const size of [
  { width: 320, height: 568 },
  { width: 390, height: 844 },
]) {
  t.test(`at ${size.width} px every page a user of the demo sees fits the screen`, async (t) => {
    const ctx = await browser.newContext({ viewport: size })
    t.teardown(() => ctx.close())
    const shot = (page: Page, name: string) =>
      page.screenshot({ path: path.join(ARTIFACTS, `${name}-${size.width}.png`), fullPage: true })
    const page = await open(ctx)
    await fits(t, page, 'landing (signed out)')
    await shot(page, 'signed-out')

    await signIn(page)
    await fits(t, page, 'signed in')
    await addNote(page, `seen at ${size.width} px: https://example.com/a/${'long-unbroken-'.repeat(6)}address`)
    await currentSessionShown(page)
    await fits(t, page, 'signed in, notes and sessions listed')
    await pillOnOneLine(t, page)
    await shot(page, 'signed-in')

    await page.click('#sessions tr.current button')
    await page.waitForSelector('#end-current[open]', { timeout: 10_000 })
    await fits(t, page, 'asked before ending this session')
    const box = await page.locator('#end-current').boundingBox()
    t.ok(box && box.x >= 0 && box.x + box.width <= size.width, 'the question is on the screen')
    await shot(page, 'end-session-question')
    await page.click('#end-current-cancel')
    await page.waitForSelector('#end-current[open]', { state: 'detached', timeout: 10_000 })

    await page.click('#logout')
    await page.waitForSelector('#signed-out:not([hidden])', { timeout: 10_000 })
    t.equal(await text(page, '#signed-out-status'), 'Signed out.')
    await fits(t, page, 'after signing out')

    await page.click('#code-login')
    await page.waitForURL(`${stack.authUrl}/oauth/authorize?**`, { timeout: 10_000 })
    await fits(t, page, 'the Tollgate sign-in page')
    await page.fill('#username', DEMO_USER.username)
    await page.fill('#password', 'wrong password')
    await page.click('button[type=submit]')
    await page.waitForSelector('[role=alert]', { timeout: 10_000 })
    await fits(t, page, 'the Tollgate sign-in page with an error')
    await shot(page, 'sign-in-page')
    await page.fill('#password', DEMO_USER.password)
    await page.click('button[type=submit]')
    await page.waitForURL(`${stack.webUrl}/`, { timeout: 10_000 })
    await page.waitForSelector('#signed-in:not([hidden])', { timeout: 10_000 })
    await fits(t, page, 'signed in through the Tollgate sign-in page')

    // RP-initiated logout without a return address ends on the auth server's own signed-out page.
    const { id_token } = await codeSession(page)
    await page.goto(`${stack.authUrl}/oauth/logout?${new URLSearchParams({ id_token_hint: id_token })}`)
    t.match(await text(page, 'h1'), 'You are signed out')
    await fits(t, page, 'the Tollgate signed-out page')
    await shot(page, 'signed-out-page')

    // Back in the demo, the ended session is noticed and said so.
    await page.goto(stack.webUrl)
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 })
    t.match(await text(page, '#signed-out-status'), 'Your session has ended')
    await fits(t, page, 'after the session ended elsewhere')

    await page.goto(`${stack.authUrl}/oauth/authorize?client_id=demo-web&redirect_uri=https://example.com/unknown`)
    t.match(await text(page, 'h1'), 'This sign-in link cannot be used')
    await fits(t, page, 'the Tollgate sign-in error page')
    await page.goto(`${stack.webUrl}/callback?state=${'x'.repeat(64)}&code=abc`)
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 })
    t.match(await text(page, '#code-result'), 'Sign-in failed')
    await fits(t, page, 'a sign-in that cannot be finished')
  })
}

t.test('a screenshot at 1280 px; the session table from 600 px up', async (t) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  t.teardown(() => ctx.close())
  const page = await open(ctx)
  await page.screenshot({ path: path.join(ARTIFACTS, 'signed-out-desktop.png'), fullPage: true })
  await signIn(page)
  await currentSessionShown(page)
  await page.screenshot({ path: path.join(ARTIFACTS, 'signed-in-desktop.png'), fullPage: true })
  await fits(t, page, 'signed in')
  await pillOnOneLine(t, page)
  // Just above the phone layout, the table's first column is at its narrowest.
  await page.setViewportSize({ width: 600, height: 900 })
  await fits(t, page, 'signed in')
  await pillOnOneLine(t, page)
  t.match(await text(page, '.topbar .note'), 'Write notes', 'the tagline says what one can do here')
})

declare global {
  interface Window {
    demo: { refresh(): Promise<unknown>; loadNotes(): Promise<unknown[]>; loadSessions(): Promise<unknown[]> }
  }
}
