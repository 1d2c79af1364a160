// /admin/v1/users and sessions: create, list with filters, disable (tokens refused, sessions ended), set a password,
// delete; a user's sessions listed and ended, one by its id alone.
import t from 'tap'
import { adminServer } from '../admin-helpers.js'
import { decodeJwt, form, USER_PASSWORD } from '../helpers.js'

const server = await adminServer()
const { call, botToken, app } = server
const admin = await botToken('admin-bot')
const usersAdmin = await botToken('users-bot')

const login = async (username: string, password = USER_PASSWORD) =>
  app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'password', client_id: 'web', username, password, scope: 'openid' }),
  })
const userinfo = async (token: string) =>
  (await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${token}` } })).statusCode

t.test('create: a generated password shown once; the user signs in with it', async (t) => {
  const res = await call('POST', '/admin/v1/users', admin, {
    username: 'erin',
    email: 'erin@example.com',
    name: 'Erin',
  })
  t.equal(res.status, 201)
  t.match(res.headers.location, /^\/admin\/v1\/users\/[0-9a-f-]{36}$/)
  t.match(res.headers.etag, /^"\d+"$/)
  t.type(res.body.password, 'string')
  t.notOk('password_hash' in res.body)
  t.equal((await login('erin', res.body.password as string)).statusCode, 200)
  const read = await call('GET', `/admin/v1/users/${res.body.sub}`, admin)
  t.notOk('password' in read.body, 'shown once')
  t.notMatch(JSON.stringify(read.body), /argon2/)
  t.equal((await call('POST', '/admin/v1/users', admin, { username: 'ERIN' })).status, 409, 'usernames are unique')
  const bad = await call('POST', '/admin/v1/users', admin, { username: 'x', password: 'short' })
  t.equal(bad.status, 400)
  t.equal(bad.body.error, 'invalid_request')
  t.equal((await call('POST', '/admin/v1/users', admin, { username: 'y', colour: 'red' })).status, 400)
})

t.test('list: filters and pages', async (t) => {
  await call('POST', '/admin/v1/users', admin, { username: 'frank', roles: ['ops'] })
  const byRole = await call('GET', '/admin/v1/users?role=ops', admin)
  t.same(
    (byRole.body.items as { username: string }[]).map((u) => u.username),
    ['frank'],
  )
  const disabled = await call('GET', '/admin/v1/users?disabled=true', admin)
  t.same(
    (disabled.body.items as { username: string }[]).map((u) => u.username),
    ['bob'],
  )
  const q = await call('GET', '/admin/v1/users?q=EXAMPLE.COM', admin)
  t.ok((q.body.items as { email?: string }[]).every((u) => u.email?.endsWith('example.com')))
  const exact = await call('GET', '/admin/v1/users?username=Carol', admin)
  t.same(
    (exact.body.items as { username: string }[]).map((u) => u.username),
    ['carol'],
  )
  const first = await call('GET', '/admin/v1/users?limit=2', admin)
  t.equal((first.body.items as unknown[]).length, 2)
  const second = await call('GET', `/admin/v1/users?limit=2&cursor=${first.body.next_cursor}`, admin)
  const names = [...(first.body.items as { username: string }[]), ...(second.body.items as { username: string }[])]
  t.same(
    names.map((u) => u.username),
    names.map((u) => u.username).sort(),
  )
})

t.test('disable: every token of theirs is refused and every session ends, at once', async (t) => {
  const created = await call('POST', '/admin/v1/users', admin, { username: 'gina', password: USER_PASSWORD })
  const signedIn = (await login('gina')).json()
  t.equal(await userinfo(signedIn.access_token), 200)
  const res = await call(
    'PATCH',
    `/admin/v1/users/${created.body.sub}`,
    admin,
    { disabled: true },
    { 'if-match': created.headers.etag as string },
  )
  t.equal(res.status, 200)
  t.equal(res.body.disabled, true)
  t.equal(res.body.sessions_ended, 1)
  t.equal(await userinfo(signedIn.access_token), 401, 'the access token is refused')
  t.equal((await login('gina')).statusCode, 400, 'no sign-in')
  const refresh = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ grant_type: 'refresh_token', client_id: 'web', refresh_token: signedIn.refresh_token }),
  })
  t.equal(refresh.statusCode, 400, 'the session is gone')
  const enabled = await call('PATCH', `/admin/v1/users/${created.body.sub}`, admin, { disabled: false })
  t.equal(enabled.body.disabled, false)
  t.equal((await login('gina')).statusCode, 200)
})

t.test('a new password works at once and ends their sessions (unless kept)', async (t) => {
  const created = await call('POST', '/admin/v1/users', admin, { username: 'hank', password: USER_PASSWORD })
  const sub = created.body.sub as string
  const session = (await login('hank')).json()
  const res = await call('PATCH', `/admin/v1/users/${sub}`, admin, { password: 'a brand new password' })
  t.equal(res.status, 200)
  t.equal(res.body.sessions_ended, 1)
  t.equal(await userinfo(session.access_token), 401)
  t.equal((await login('hank')).statusCode, 400, 'the old password is refused')
  t.equal((await login('hank', 'a brand new password')).statusCode, 200)
  const kept = await call('PATCH', `/admin/v1/users/${sub}`, admin, {
    password: 'another new password',
    keep_sessions: true,
  })
  t.equal(kept.body.sessions_ended, 0)
  const weak = await call('PATCH', `/admin/v1/users/${sub}`, admin, { password: 'short' })
  t.equal(weak.status, 400)
  t.equal((await call('PATCH', `/admin/v1/users/${sub}`, admin, { username: 'renamed' })).status, 400)
})

t.test('profile and roles; a stale ETag is 412', async (t) => {
  const created = await call('POST', '/admin/v1/users', admin, { username: 'iris', email: 'iris@example.com' })
  const sub = created.body.sub as string
  const etag = created.headers.etag as string
  const changed = await call(
    'PATCH',
    `/admin/v1/users/${sub}`,
    admin,
    { name: 'Iris', roles: ['ops'], email: null },
    { 'if-match': etag },
  )
  t.equal(changed.status, 200)
  t.equal(changed.body.name, 'Iris')
  t.notOk('email' in changed.body)
  t.same(changed.body.roles, ['ops'])
  const stale = await call('PATCH', `/admin/v1/users/${sub}`, admin, { disabled: true }, { 'if-match': etag })
  t.equal(stale.status, 412)
  t.equal((await call('GET', `/admin/v1/users/${sub}`, admin)).body.disabled, false, 'nothing changed')
  t.equal((await call('DELETE', `/admin/v1/users/${sub}`, admin, undefined, { 'if-match': etag })).status, 412)
})

t.test('only a full administrator makes, changes or removes administrators', async (t) => {
  const promote = await call('POST', '/admin/v1/users', usersAdmin, { username: 'jack', roles: ['admin'] })
  t.equal(promote.status, 403)
  t.equal(promote.body.error, 'insufficient_scope')
  const alice = (await call('GET', '/admin/v1/users?username=alice', admin)).body.items as { sub: string }[]
  const sub = alice[0]?.sub as string
  t.equal((await call('PATCH', `/admin/v1/users/${sub}`, usersAdmin, { password: 'taken over password' })).status, 403)
  t.equal((await call('DELETE', `/admin/v1/users/${sub}`, usersAdmin)).status, 403)
  const plain = await call('POST', '/admin/v1/users', usersAdmin, { username: 'kim' })
  t.equal(plain.status, 201)
  t.equal((await call('PATCH', `/admin/v1/users/${plain.body.sub}`, usersAdmin, { roles: ['admin'] })).status, 403)
  t.equal((await call('PATCH', `/admin/v1/users/${plain.body.sub}`, admin, { roles: ['admin'] })).status, 200)
})

t.test('delete: tokens refused, the username free again', async (t) => {
  const created = await call('POST', '/admin/v1/users', admin, { username: 'liam', password: USER_PASSWORD })
  const token = (await login('liam')).json().access_token as string
  t.equal((await call('DELETE', `/admin/v1/users/${created.body.sub}`, admin)).status, 204)
  t.equal(await userinfo(token), 401)
  t.equal((await call('GET', `/admin/v1/users/${created.body.sub}`, admin)).status, 404)
  t.equal((await call('POST', '/admin/v1/users', admin, { username: 'liam' })).status, 201)
})

t.test('sessions: listed without token material, ended one by its id alone, or all', async (t) => {
  const created = await call('POST', '/admin/v1/users', admin, { username: 'mia', password: USER_PASSWORD })
  const sub = created.body.sub as string
  const one = (await login('mia')).json()
  const two = (await login('mia')).json()
  const listed = await call('GET', `/admin/v1/users/${sub}/sessions`, admin)
  t.equal(listed.status, 200)
  const items = listed.body.items as { id: string; client_id: string }[]
  t.equal(items.length, 2)
  t.equal(items[0]?.client_id, 'web')
  t.notMatch(JSON.stringify(listed.body), one.refresh_token.split('.')[2])
  const sid = decodeJwt(one.access_token).payload.sid as string
  t.ok(
    items.some((s) => s.id === sid),
    'the session id is its tokens’ sid',
  )
  const sessionsAdmin = admin
  t.equal((await call('DELETE', `/admin/v1/sessions/${sid}`, sessionsAdmin)).status, 204)
  t.equal(await userinfo(one.access_token), 401)
  t.equal(await userinfo(two.access_token), 200, 'the other session lives on')
  t.equal((await call('DELETE', `/admin/v1/sessions/${sid}`, admin)).status, 404)
  const all = await call('DELETE', `/admin/v1/users/${sub}/sessions`, admin)
  t.same(all.body, { ended: 1 })
  t.equal(await userinfo(two.access_token), 401)
  t.equal((await call('GET', '/admin/v1/users/nobody/sessions', admin)).status, 404)
})
