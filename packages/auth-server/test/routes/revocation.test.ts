// "Revocation reaches every verifier", at the auth server: what ended is refused at once by introspection,
// /userinfo and the session endpoints, and published as signed SETs at the revocation events endpoint.
import { createLocalJWKSet, jwtVerify } from 'jose'
import t from 'tap'
import { basic, decodeJwt, form, SERVICE_SECRET, testServer, USER_PASSWORD } from '../helpers.js'

const { app, clock } = await testServer({ ISSUER: 'https://auth.test' })
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const service = { ...FORM, authorization: basic('service', SERVICE_SECRET) }

const login = async () => {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: FORM,
    payload: form({
      grant_type: 'password',
      client_id: 'web',
      username: 'alice',
      password: USER_PASSWORD,
      scope: 'openid',
    }),
  })
  t.equal(res.statusCode, 200)
  return res.json() as { access_token: string; refresh_token: string; id_token: string }
}
const introspect = async (token: string) =>
  (await app.inject({ method: 'POST', url: '/oauth/introspect', headers: service, payload: form({ token }) })).json()
const userinfo = async (token: string) =>
  (await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${token}` } })).statusCode
const events = async (after?: string) =>
  (await app.inject({ url: `/revocation-events${after ? `?after=${after}` : ''}` })).json() as {
    events: { id: string; set: string }[]
    cursor: string | null
    more: boolean
  }
const jwks = createLocalJWKSet((await app.inject({ url: '/.well-known/jwks.json' })).json())
const verifySet = (set: string) =>
  jwtVerify(set, jwks, { issuer: 'https://auth.test', typ: 'secevent+jwt', algorithms: ['RS256'] })

t.test('user tokens name their session: sid in the access token and the ID token', async (t) => {
  const tokens = await login()
  const { sid } = decodeJwt(tokens.access_token).payload
  t.match(sid, /^[A-Za-z0-9_-]{16}$/)
  t.equal(decodeJwt(tokens.id_token).payload.sid, sid)
  const sessions = (
    await app.inject({ url: '/session', headers: { authorization: `Bearer ${tokens.access_token}` } })
  ).json() as { id: string }[]
  t.ok(
    sessions.some((s) => s.id === sid),
    'the same id GET /session lists',
  )
})

t.test('revoking the refresh token ends its access tokens at introspection and /userinfo', async (t) => {
  const ended = await login()
  const other = await login()
  t.equal((await introspect(ended.access_token)).active, true)
  const revoke = await app.inject({
    method: 'POST',
    url: '/oauth/revoke',
    headers: FORM,
    payload: form({ token: ended.refresh_token, client_id: 'web' }),
  })
  t.equal(revoke.statusCode, 200)
  t.same(await introspect(ended.access_token), { active: false })
  t.equal(await userinfo(ended.access_token), 401)
  t.equal((await introspect(other.access_token)).active, true, 'the user’s other session lives on')
  t.equal(await userinfo(other.access_token), 200)
})

t.test('logout-all ends every session’s tokens; DELETE /session/:id one', async (t) => {
  const a = await login()
  const b = await login()
  const c = await login()
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  const sidOf = (tokens: { access_token: string }) => decodeJwt(tokens.access_token).payload.sid as string
  const del = await app.inject({ method: 'DELETE', url: `/session/${sidOf(b)}`, headers: bearer(a.access_token) })
  t.equal(del.statusCode, 204)
  t.same(await introspect(b.access_token), { active: false })
  t.equal((await introspect(a.access_token)).active, true)
  await app.inject({ method: 'POST', url: '/session/logout-all', headers: bearer(c.access_token) })
  t.same(await introspect(a.access_token), { active: false })
  t.same(await introspect(c.access_token), { active: false })
})

t.test('an access token revoked by jti; a service token stays', async (t) => {
  const svc = (
    await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: service,
      payload: form({ grant_type: 'client_credentials' }),
    })
  ).json().access_token as string
  const other = (
    await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: service,
      payload: form({ grant_type: 'client_credentials' }),
    })
  ).json().access_token as string
  await app.inject({ method: 'POST', url: '/oauth/revoke', headers: service, payload: form({ token: svc }) })
  t.same(await introspect(svc), { active: false })
  t.equal((await introspect(other)).active, true)
})

t.test(
  'every revocation is a signed SET at the revocation events endpoint, with opaque identifiers only',
  async (t) => {
    const metadata = (await app.inject({ url: '/.well-known/oauth-authorization-server' })).json()
    t.equal(metadata.revocation_events_endpoint, 'https://auth.test/revocation-events')
    const before = await events()
    const tokens = await login()
    const sid = decodeJwt(tokens.access_token).payload.sid
    await app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: FORM,
      payload: form({ token: tokens.refresh_token, client_id: 'web' }),
    })
    const page = await events(before.cursor ?? undefined)
    t.equal(page.events.length, 1)
    const [event] = page.events
    t.equal(page.cursor, event?.id)
    const { payload, protectedHeader } = await verifySet(event?.set as string)
    t.equal(protectedHeader.typ, 'secevent+jwt')
    t.equal(payload.jti, event?.id, 'the SET’s jti is its cursor')
    const revoked = (payload.events as Record<string, Record<string, unknown>>)[
      'https://schemas.openid.net/secevent/caep/event-type/session-revoked'
    ]
    t.ok(revoked, 'a CAEP session-revoked event')
    t.same((payload.sub_id as { session: unknown }).session, { format: 'opaque', id: sid })
    t.ok((revoked?.deny_until as number) >= Math.floor(clock.now / 1000) + 300, 'held as long as its tokens can live')
    t.notMatch(event?.set, /alice|example\.com/, 'no personal data')
    for (const secret of [tokens.refresh_token, tokens.access_token]) t.notOk(JSON.stringify(payload).includes(secret))
    t.same((await events(event?.id)).events, [], 'nothing after the newest cursor')
  },
)

t.test('a malformed cursor is a clear 400', async (t) => {
  const res = await app.inject({ url: '/revocation-events?after=nope' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'invalid_request')
})

t.test('the feed is public: any origin may read it', async (t) => {
  const res = await app.inject({ url: '/revocation-events', headers: { origin: 'https://anyone.test' } })
  t.equal(res.headers['access-control-allow-origin'], '*')
})
