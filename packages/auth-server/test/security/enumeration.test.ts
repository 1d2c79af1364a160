import t from 'tap'
import { passwordChecks } from '../../src/users/passwords.js'
import { form, testServer } from '../helpers.js'

// "Takes the same" is checked as the same work — one argon2 check per attempt; that the unknown user's check runs
// against a hash with the production parameters is shown in passwords.test.ts. A timing comparison here was noisy on
// a loaded CI machine.
// Throttling is tested elsewhere; here it must not interfere with many failures in a row.
const { app } = await testServer({
  COOKIE_SECURE: 'false',
  LOGIN_DELAY_AFTER: '1000',
  LOGIN_MAX_FAILURES: '10000',
  LOGIN_IP_MAX_FAILURES: '1000000',
})

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

/** How many argon2 password checks one attempt ran. */
async function workOf(attempt: () => Promise<Answer>): Promise<{ answer: Answer; checks: number }> {
  const before = passwordChecks()
  const answer = await attempt()
  return { answer, checks: passwordChecks() - before }
}

for (const [name, attempt] of Object.entries(endpoints)) {
  t.test(`${name}: unknown user and wrong password look and take the same`, async (t) => {
    for (let i = 0; i < 5; i++) {
      const unknown = await workOf(() => attempt(`nobody-${i}`))
      const wrong = await workOf(() => attempt('alice'))
      t.equal(unknown.answer.status, wrong.answer.status, 'same status')
      t.equal(
        unknown.answer.body.replaceAll(`nobody-${i}`, 'USERNAME'),
        wrong.answer.body.replaceAll('alice', 'USERNAME'),
        'same body',
      )
      t.equal(unknown.checks, 1, 'argon2 ran once for the unknown user')
      t.equal(wrong.checks, 1, 'and once for the wrong password')
    }
  })
}
