// OIDC RP-Initiated Logout at /oauth/logout: a valid id_token_hint ends its session at once and returns the browser
// to an exactly registered post_logout_redirect_uri with its state; anything else is a 400 page and no redirect.
import { generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { decodeJwt, form, ISSUER, testServer, USER_PASSWORD } from '../helpers.js'

const { app, clock } = await testServer()
t.teardown(() => app.close())

async function signIn(clientId = 'spa') {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({
      grant_type: 'password',
      client_id: clientId,
      username: 'alice',
      password: USER_PASSWORD,
      scope: 'openid profile',
    }),
  })
  t.equal(res.statusCode, 200, res.body)
  return res.json() as { access_token: string; refresh_token: string; id_token: string }
}
const refresh = (token: string, clientId = 'spa') =>
  app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'refresh_token', client_id: clientId, refresh_token: token }),
  })
const logout = (query: Record<string, string>) => app.inject({ url: `/oauth/logout?${new URLSearchParams(query)}` })

t.test('metadata advertises the end_session_endpoint', async (t) => {
  const metadata = (await app.inject({ url: '/.well-known/openid-configuration' })).json()
  t.equal(metadata.end_session_endpoint, `${ISSUER}/oauth/logout`)
})

t.test('a valid hint ends that session at once and redirects with state; other sessions live on', async (t) => {
  const ended = await signIn()
  const other = await signIn()
  const res = await logout({
    id_token_hint: ended.id_token,
    post_logout_redirect_uri: 'https://app.test/signed-out',
    state: 'xyz 1',
  })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, 'https://app.test/signed-out?state=xyz+1')
  t.equal((await refresh(ended.refresh_token)).json().error, 'invalid_grant', 'the session is over')
  const me = await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${ended.access_token}` } })
  t.equal(me.statusCode, 401, 'and its access tokens with it')
  t.equal((await refresh(other.refresh_token)).statusCode, 200, 'the other session is untouched')
})

t.test('the same flow by POST, and without a return address a signed-out page', async (t) => {
  const session = await signIn()
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ id_token_hint: session.id_token, client_id: 'spa' }),
  })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.body, /You are signed out/)
  t.match(res.body, /Notes SPA/)
  t.equal((await refresh(session.refresh_token)).statusCode, 400)
})

t.test('an expired hint still names the session (the spec asks for it)', async (t) => {
  const session = await signIn()
  clock.now += 7200 * 1000
  const res = await logout({ id_token_hint: session.id_token, post_logout_redirect_uri: 'https://app.test/signed-out' })
  clock.now -= 7200 * 1000
  t.equal(res.statusCode, 303)
})

t.test('anything it cannot trust is a 400 page that redirects nowhere, and ends nothing', async (t) => {
  const session = await signIn()
  const web = await signIn('web')
  const { privateKey } = await generateKeyPair('RS256')
  const claims = decodeJwt(session.id_token).payload
  const forged = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: decodeJwt(session.id_token).header.kid as string })
    .sign(privateKey)
  const cases: [string, Record<string, string>][] = [
    ['no hint', { post_logout_redirect_uri: 'https://app.test/signed-out' }],
    [
      'an unregistered return address',
      { id_token_hint: session.id_token, post_logout_redirect_uri: 'https://evil.test/' },
    ],
    [
      'a return address that only starts like a registered one',
      { id_token_hint: session.id_token, post_logout_redirect_uri: 'https://app.test/signed-out/../x' },
    ],
    [
      'another client’s return address',
      { id_token_hint: web.id_token, post_logout_redirect_uri: 'https://app.test/signed-out' },
    ],
    ['a client_id other than the hint’s', { id_token_hint: session.id_token, client_id: 'web' }],
    ['a forged hint', { id_token_hint: forged, post_logout_redirect_uri: 'https://app.test/signed-out' }],
    [
      'an access token as hint',
      { id_token_hint: session.access_token, post_logout_redirect_uri: 'https://app.test/signed-out' },
    ],
    ['garbage', { id_token_hint: 'x.y.z' }],
  ]
  for (const [what, query] of cases) {
    const res = await logout(query)
    t.equal(res.statusCode, 400, what)
    t.notOk(res.headers.location, `${what}: no redirect`)
    t.match(res.body, /This sign-out link cannot be used/, what)
  }
  t.equal((await refresh(session.refresh_token)).statusCode, 200, 'the session was not ended by any of them')
})
