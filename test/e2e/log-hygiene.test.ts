// Full flows through both services with every log line captured (LOG_LEVEL=trace): no token, password, client
// secret, cookie value, code or private key material may appear in any of them.
import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { ALICE, BFF, SERVICE, SPA, tokenRequest, WEB } from '../support/fixtures.js'
import { sleep } from '../support/load.js'
import type { Service } from '../support/services.js'

const stack = await startE2e(t, {
  api: { env: { LOG_LEVEL: 'trace' } },
  env: { LOG_LEVEL: 'trace', REFRESH_REUSE_GRACE: '1', COOKIE_SECURE: 'false' },
})
const { issuer, audience, auth, keysDir } = stack
const api = stack.api as Service
const secrets = new Set<string>([SERVICE.secret, BFF.secret, ALICE.password])
const keep = (...values: unknown[]) => {
  for (const v of values) if (typeof v === 'string' && v.length >= 8) secrets.add(v)
}
const url = `${issuer}/oauth/token`
const basicOf = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

t.test('run every flow, the failures too', async (t) => {
  // client_credentials, both auth methods, and a wrong secret
  const cc = await tokenRequest(url, { grant_type: 'client_credentials' }, SERVICE)
  keep(cc.body.access_token)
  keep(
    (
      await tokenRequest(url, {
        grant_type: 'client_credentials',
        client_id: SERVICE.id,
        client_secret: SERVICE.secret,
      })
    ).body.access_token,
  )
  const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`
  keep(wrongSecret)
  t.equal(
    (await tokenRequest(url, { grant_type: 'client_credentials' }, { id: SERVICE.id, secret: wrongSecret })).status,
    401,
  )

  // password → refresh → refresh → reuse (theft) → revoke → introspect
  const wrongPassword = `guess-${randomBytes(8).toString('hex')}`
  keep(wrongPassword)
  t.equal(
    (await tokenRequest(url, { grant_type: 'password', username: ALICE.username, password: wrongPassword }, BFF))
      .status,
    400,
  )
  const login = await tokenRequest(
    url,
    {
      grant_type: 'password',
      username: ALICE.username,
      password: ALICE.password,
      scope: 'openid profile email notes:read',
    },
    BFF,
  )
  keep(login.body.access_token, login.body.refresh_token, login.body.id_token)
  const r1 = await tokenRequest(
    url,
    { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string },
    BFF,
  )
  keep(r1.body.access_token, r1.body.refresh_token, r1.body.id_token)
  await sleep(1_200)
  const theft = await tokenRequest(
    url,
    { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string },
    BFF,
  )
  t.equal(theft.body.error, 'invalid_grant')
  const second = await tokenRequest(
    url,
    { grant_type: 'password', username: ALICE.username, password: ALICE.password },
    BFF,
  )
  keep(second.body.access_token, second.body.refresh_token)
  for (const token of [second.body.access_token, second.body.refresh_token, 'garbage-token-value-1234']) {
    await fetch(`${issuer}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: basicOf(BFF.id, BFF.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: token as string }),
    })
    await fetch(`${issuer}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: basicOf(BFF.id, BFF.secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: token as string }),
    })
  }

  // resource API: good, missing scope, forged, malformed
  for (const token of [cc.body.access_token, login.body.access_token, `${cc.body.access_token}x`, 'not.a.jwt']) {
    await fetch(`${api.url}/v1/notes`, { headers: { authorization: `Bearer ${token}` } })
    await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
  }

  // browser session: login, refresh, list, logout, logout-all
  const origin = 'http://localhost:5173'
  const sLogin = await fetch(`${issuer}/session/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({
      client_id: WEB.id,
      username: ALICE.username,
      password: ALICE.password,
      scope: 'openid notes:read',
    }),
  })
  const cookie = (sLogin.headers.get('set-cookie') ?? '').split(';')[0] as string
  const sBody = (await sLogin.json()) as Record<string, string>
  keep(cookie.split('=')[1], sBody.access_token, sBody.id_token)
  const sRefresh = await fetch(`${issuer}/session/refresh`, { method: 'POST', headers: { cookie, origin } })
  const cookie2 = (sRefresh.headers.get('set-cookie') ?? '').split(';')[0] as string
  keep(cookie2.split('=')[1], ((await sRefresh.json()) as Record<string, string>).access_token)
  await fetch(`${issuer}/session`, { headers: { authorization: `Bearer ${sBody.access_token}`, cookie: cookie2 } })
  await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${sBody.access_token}` } })
  await fetch(`${issuer}/session/logout`, { method: 'POST', headers: { cookie: cookie2, origin } })
  await fetch(`${issuer}/session/logout-all`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sBody.access_token}` },
  })

  // authorization code + PKCE through the sign-in page, with one wrong password first
  const verifier = randomBytes(32).toString('base64url')
  keep(verifier)
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: SPA.id,
    redirect_uri: SPA.redirectUri,
    scope: 'openid',
    state: 'st',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })
  let code = ''
  for (const password of [wrongPassword, ALICE.password]) {
    const page = await fetch(`${issuer}/oauth/authorize?${query}`)
    const html = await page.text()
    const csrfCookie = (page.headers.get('set-cookie') ?? '').split(';')[0] as string
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string
    keep(csrf)
    const res = await fetch(`${issuer}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
      body: `${query}&csrf=${csrf}&username=${ALICE.username}&password=${encodeURIComponent(password)}`,
    })
    code = new URL(res.headers.get('location') ?? 'http://x/').searchParams.get('code') ?? ''
  }
  keep(code)
  const exchanged = await tokenRequest(url, {
    grant_type: 'authorization_code',
    client_id: SPA.id,
    code,
    redirect_uri: SPA.redirectUri,
    code_verifier: verifier,
  })
  keep(exchanged.body.access_token, exchanged.body.refresh_token, exchanged.body.id_token)
  t.equal(exchanged.status, 200)
  t.equal(
    (
      await tokenRequest(url, {
        grant_type: 'authorization_code',
        client_id: SPA.id,
        code,
        redirect_uri: SPA.redirectUri,
        code_verifier: verifier,
      })
    ).status,
    400,
    'code replay',
  )
})

t.test('no secret appears in any log line of either service', async (t) => {
  // Private key material and the client-secret HMAC key, straight from KEYS_DIR.
  for (const name of await readdir(keysDir)) {
    const text = await readFile(path.join(keysDir, name), 'utf8')
    if (name.endsWith('.json')) {
      const jwk = JSON.parse(text) as Record<string, string>
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) keep(jwk[member])
    } else keep(text.trim())
  }
  await auth.stop()
  await api.stop()
  const logs = auth.output() + api.output()
  const lines = logs.split('\n').filter(Boolean)
  t.ok(lines.length > 50, `${lines.length} log lines captured`)
  t.ok(
    lines.every((l) => l.startsWith('{')),
    'every line is JSON',
  )
  t.match(logs, /"security_event":"refresh_token_reuse"/, 'the theft was logged')
  const fragments = new Set<string>()
  for (const secret of secrets) {
    fragments.add(secret)
    // JWTs: the signature alone; refresh tokens: the random part alone.
    const last = secret.split('.').pop() as string
    if (last.length >= 16) fragments.add(last)
  }
  t.ok(fragments.size > 40, `${fragments.size} secret values checked`)
  const leaked = [...fragments].filter((f) => logs.includes(f))
  t.same(leaked, [], 'nothing leaked')
})
