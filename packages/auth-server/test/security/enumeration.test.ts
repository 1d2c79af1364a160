import t from 'tap'
import { form, testServer } from '../helpers.js'

// Throttling is tested elsewhere; here it must not interfere with 60 failures in a row.
const { app } = await testServer({
  COOKIE_SECURE: 'false',
  LOGIN_DELAY_AFTER: '1000',
  LOGIN_MAX_FAILURES: '10000',
  LOGIN_IP_MAX_FAILURES: '1000000',
})

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return ((sorted[14] as number) + (sorted[15] as number)) / 2
}

interface Answer {
  status: number
  body: string
}

const endpoints: Record<string, (username: string) => Promise<Answer>> = {
  'token endpoint (password grant)': async (username) => {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ grant_type: 'password', client_id: 'web', username, password: 'not the password' }),
    })
    return { status: res.statusCode, body: res.body }
  },
  'browser session login': async (username) => {
    const res = await app.inject({
      method: 'POST',
      url: '/session/login',
      headers: { 'content-type': 'application/json', origin: 'https://app.test' },
      payload: { client_id: 'spa', username, password: 'not the password' },
    })
    return { status: res.statusCode, body: res.body }
  },
  'sign-in page': async (username) => {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'spa',
      redirect_uri: 'https://app.test/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'fixed',
    })
    const page = await app.inject({ url: `/oauth/authorize?${query}` })
    const csrf = page.cookies.find((c) => c.name === 'tg_authz_csrf')?.value as string
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/authorize',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tg_authz_csrf=${csrf}` },
      payload: `${query}&csrf=${csrf}&${new URLSearchParams({ username, password: 'not the password' })}`,
    })
    // The page echoes the username typed and a fresh CSRF token; compare everything else.
    const body = res.body.replaceAll(username, 'USERNAME').replace(/name="csrf" value="[^"]+"/, '')
    return { status: res.statusCode, body }
  },
}

for (const [name, attempt] of Object.entries(endpoints)) {
  t.test(`${name}: unknown user and wrong password look and take the same`, async (t) => {
    await attempt('alice') // warm up
    const timings = { unknown: [] as number[], wrong: [] as number[] }
    let unknownAnswer: Answer | undefined
    let wrongAnswer: Answer | undefined
    for (let i = 0; i < 30; i++) {
      for (const kind of i % 2 ? (['unknown', 'wrong'] as const) : (['wrong', 'unknown'] as const)) {
        const started = process.hrtime.bigint()
        const answer = await attempt(kind === 'wrong' ? 'alice' : `nobody-${i}`)
        timings[kind].push(Number(process.hrtime.bigint() - started) / 1e6)
        if (kind === 'wrong') wrongAnswer ??= answer
        else unknownAnswer ??= { ...answer, body: answer.body.replaceAll(`nobody-${i}`, 'USERNAME') }
      }
    }
    t.equal(unknownAnswer?.status, wrongAnswer?.status, 'same status')
    t.equal(unknownAnswer?.body, wrongAnswer?.body.replaceAll('alice', 'USERNAME'), 'same body')
    const [u, w] = [median(timings.unknown), median(timings.wrong)]
    const ratio = Math.max(u, w) / Math.min(u, w)
    t.ok(
      ratio <= 1.25,
      `median ${u.toFixed(1)} ms (unknown) vs ${w.toFixed(1)} ms (wrong password): within 25% (×${ratio.toFixed(2)})`,
    )
  })
}
