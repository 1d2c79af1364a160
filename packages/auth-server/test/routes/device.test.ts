// RFC 8628 device authorization at the HTTP surface: the codes, every polling answer, the verification page (code,
// sign-in, consent, CSRF), a single redemption, and user-code guessing locked out.
import t from 'tap'
import { DEVICE_CODE } from '../../src/store/types.js'
import { bootstrapDoc, decodeJwt, form, ISSUER, testServer, USER_PASSWORD } from '../helpers.js'

const doc = {
  ...bootstrapDoc,
  clients: [
    ...(bootstrapDoc.clients ?? []),
    {
      client_id: 'tv',
      public: true,
      name: 'Living-room TV',
      grant_types: [DEVICE_CODE, 'refresh_token'],
      scopes: ['openid', 'profile', 'notes:read'],
      audiences: ['https://api.test'],
    },
  ],
}
const { app, clock } = await testServer({ DEVICE_CODE_TTL: '600' }, { doc })
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

const authorize = async (fields: Record<string, string> = {}) => {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/device_authorization',
    headers: FORM,
    payload: form({ client_id: 'tv', scope: 'openid notes:read', ...fields }),
  })
  return res
}
const poll = (deviceCode: string, clientId = 'tv') =>
  app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({ grant_type: DEVICE_CODE, device_code: deviceCode, client_id: clientId }),
  })
const hidden = (html: string) => {
  const out: Record<string, string> = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1] as string] = (m[2] as string).replace(/&amp;/g, '&').replace(/&quot;/g, '"')
  }
  return out
}

/** The verification page as a person uses it: open, enter the code and sign in, then allow or deny. */
async function verify(userCode: string, decision: 'approve' | 'deny', password = USER_PASSWORD, ip = '10.0.0.1') {
  const page = await app.inject({ url: `/device?user_code=${userCode}`, remoteAddress: ip })
  const cookie = `tg_device_csrf=${page.cookies.find((c) => c.name === 'tg_device_csrf')?.value}`
  const signed = await app.inject({
    method: 'POST',
    url: '/device',
    remoteAddress: ip,
    headers: { ...FORM, cookie },
    payload: form({ ...hidden(page.body), user_code: userCode, username: 'alice', password }),
  })
  if (signed.statusCode !== 200) return signed
  const next = `tg_device_csrf=${signed.cookies.find((c) => c.name === 'tg_device_csrf')?.value}`
  return app.inject({
    method: 'POST',
    url: '/device/decision',
    remoteAddress: ip,
    headers: { ...FORM, cookie: next },
    payload: form({ ...hidden(signed.body), decision }),
  })
}

t.test('the device gets a device code, a readable user code, the verification URIs and an interval', async (t) => {
  const res = await authorize()
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.match(body.device_code, /^[A-Za-z0-9_-]{43}$/, '256 bits')
  t.match(body.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/, 'RFC 8628 §6.1 alphabet')
  t.equal(body.verification_uri, `${ISSUER}/device`)
  t.equal(body.verification_uri_complete, `${ISSUER}/device?user_code=${body.user_code}`)
  t.equal(body.expires_in, 600)
  t.equal(body.interval, 5)
})

t.test('a client without the grant, or asking for a scope it lacks, is refused', async (t) => {
  const other = await app.inject({
    method: 'POST',
    url: '/oauth/device_authorization',
    headers: FORM,
    payload: form({ client_id: 'web' }),
  })
  t.equal(other.statusCode, 400)
  t.equal(other.json().error, 'unauthorized_client')
  const scope = await authorize({ scope: 'notes:write' })
  t.equal(scope.json().error, 'invalid_scope')
})

t.test('polling: pending, slow_down (+5 s), then the tokens once; a second redemption is invalid_grant', async (t) => {
  const { device_code, user_code } = (await authorize()).json()
  t.equal((await poll(device_code)).json().error, 'authorization_pending')
  const fast = await poll(device_code)
  t.equal(fast.json().error, 'slow_down')
  t.match(fast.json().error_description, /10 s/)
  clock.now += 11_000
  t.equal((await poll(device_code)).json().error, 'authorization_pending', 'at the new interval it is fine again')
  const done = await verify(user_code, 'approve')
  t.equal(done.statusCode, 200)
  t.match(done.body, /Device connected/)
  t.match(done.body, /Living-room TV/)
  clock.now += 11_000
  t.match(
    (await poll(device_code, 'web')).json().error,
    /^(invalid_grant|unauthorized_client)$/,
    'another client cannot redeem it',
  )
  const tokens = await poll(device_code)
  t.equal(tokens.statusCode, 200, tokens.body)
  const body = tokens.json()
  t.equal(body.scope, 'openid notes:read')
  t.type(body.refresh_token, 'string', 'a session, since the client may refresh')
  t.equal(decodeJwt(body.id_token).payload.aud, 'tv')
  t.equal(decodeJwt(body.access_token).payload.client_id, 'tv')
  clock.now += 11_000
  t.equal((await poll(device_code)).json().error, 'invalid_grant', 'redeemed once')
})

t.test('a denied request answers access_denied', async (t) => {
  const { device_code, user_code } = (await authorize()).json()
  const page = await verify(user_code, 'deny')
  t.match(page.body, /Request denied/)
  clock.now += 6_000
  const res = await poll(device_code)
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'access_denied')
})

t.test('an expired code answers expired_token for as long again, then invalid_grant', async (t) => {
  const { device_code, user_code } = (await authorize()).json()
  clock.now += 601_000
  t.equal((await poll(device_code)).json().error, 'expired_token')
  const late = await verify(user_code, 'approve')
  t.equal(late.statusCode, 400, 'the page refuses an expired code')
  clock.now += 600_000
  t.equal((await poll(device_code)).json().error, 'invalid_grant')
})

t.test('the verification page checks its CSRF cookie and the credentials', async (t) => {
  const { user_code } = (await authorize()).json()
  const forged = await app.inject({
    method: 'POST',
    url: '/device',
    headers: FORM,
    payload: form({ user_code, username: 'alice', password: USER_PASSWORD, csrf: 'x' }),
  })
  t.equal(forged.statusCode, 403)
  const wrong = await verify(user_code, 'approve', 'not the password', '10.0.0.9')
  t.equal(wrong.statusCode, 401)
  t.match(wrong.body, /Invalid username or password/i)
})

t.test('ten wrong user codes from one address lock it: 429, and the right code is refused too', async (t) => {
  const { user_code } = (await authorize()).json()
  const ip = '10.0.0.77'
  for (let i = 0; i < 9; i++) {
    const res = await verify('BBBB-BBBB', 'approve', USER_PASSWORD, ip)
    t.equal(res.statusCode, 400, `wrong code ${i + 1}`)
  }
  const tenth = await verify('BBBB-BBBB', 'approve', USER_PASSWORD, ip)
  t.equal(tenth.statusCode, 429)
  t.ok(Number(tenth.headers['retry-after']) > 0, 'with Retry-After')
  const right = await verify(user_code, 'approve', USER_PASSWORD, ip)
  t.equal(right.statusCode, 429, 'the right code is refused while locked')
  const elsewhere = await verify(user_code, 'approve', USER_PASSWORD, '10.0.0.78')
  t.equal(elsewhere.statusCode, 200, 'another address is not affected')
})

t.test('metadata advertises the device endpoint and grant', async (t) => {
  const meta = (await app.inject({ url: '/.well-known/openid-configuration' })).json()
  t.equal(meta.device_authorization_endpoint, `${ISSUER}/oauth/device_authorization`)
  t.ok(meta.grant_types_supported.includes(DEVICE_CODE))
})
