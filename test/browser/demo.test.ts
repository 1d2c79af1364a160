/// <reference lib="dom" />
// The demo web app in a real browser: sign-in, silent refresh, two tabs, HttpOnly cookie, logout, authorization code.
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import t from 'tap'
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

async function addNote(page: Page, note: string): Promise<void> {
  await page.fill('#note-text', note)
  await page.click('#note-form button[type=submit]')
  await page.waitForFunction((n) => document.querySelector('#notes')?.textContent?.includes(n), note, {
    timeout: 10_000,
  })
}

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
  t.equal(
    await tab1.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })),
    '{}{}',
  )
  const cookies = await context.cookies(stack.authUrl + '/session')
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
  await tab1.waitForFunction(() => document.querySelectorAll('#sessions tr').length === 1)
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
  t.equal((await context.cookies(stack.authUrl + '/session')).length, 0, 'cookie cleared')
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

t.test('authorization code + PKCE through the sign-in page, ending in tokens at the demo redirect URI', async (t) => {
  const fresh = await browser.newContext()
  t.teardown(() => fresh.close())
  const page = await open(fresh)
  await page.click('#code-login')
  await page.waitForURL(`${stack.authUrl}/oauth/authorize?**`)
  t.equal(await page.title(), 'Sign in')
  t.match(await text(page, 'main'), /continue to\s+Notes demo/)
  await page.fill('#username', DEMO_USER.username)
  await page.fill('#password', 'wrong password')
  await page.click('button[type=submit]')
  t.match(await text(page, '[role=alert]'), 'Invalid username or password')
  await page.fill('#password', DEMO_USER.password)
  await page.click('button[type=submit]')
  await page.waitForURL(`${stack.webUrl}/callback?**`)
  await page.waitForSelector('body[data-ready="true"]')
  t.equal(await text(page, '#code-result'), 'Signed in as alice with the authorization code flow')
  const claims = JSON.parse(await text(page, '#code-claims'))
  t.equal(claims.name, 'Alice')
  t.match(claims.scope, 'notes:read')
})

declare global {
  interface Window {
    demo: { refresh(): Promise<unknown>; loadNotes(): Promise<unknown[]>; loadSessions(): Promise<unknown[]> }
  }
}
