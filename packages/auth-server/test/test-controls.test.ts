// The test issuer's HTTP controls: present only when asked for, loopback callers only unless allowed.
import t from 'tap'
import { createTestIssuer } from '../src/testing.js'

const plain = await createTestIssuer()
t.teardown(() => plain.close())
const controlled = await createTestIssuer({
  controls: true,
  users: [{ username: 'alice', password: 'alice-password-1' }],
})
t.teardown(() => controlled.close())
const remote = await createTestIssuer({ controls: { allowRemote: true } })
t.teardown(() => remote.close())

t.test('without controls there is no /_test at all', async (t) => {
  t.equal((await plain.app.inject({ method: 'POST', url: '/_test/tokens', payload: {} })).statusCode, 404)
})

t.test('controls answer loopback callers only, unless allowRemote', async (t) => {
  const from = (issuer: typeof plain, remoteAddress: string) =>
    issuer.app.inject({ method: 'POST', url: '/_test/keys/rotate', payload: {}, remoteAddress })
  t.equal((await from(controlled, '127.0.0.1')).statusCode, 200)
  t.equal((await from(controlled, '::1')).statusCode, 200)
  const refused = await from(controlled, '10.1.2.3')
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().error, 'forbidden')
  t.equal((await from(remote, '10.1.2.3')).statusCode, 200)
})

t.test('the clock moves, stops and follows real time again', async (t) => {
  const post = (payload: object) => controlled.app.inject({ method: 'POST', url: '/_test/clock', payload })
  const set = await post({ set: '2030-01-01T00:00:00.000Z' })
  t.equal(set.json().now, '2030-01-01T00:00:00.000Z')
  t.equal((await post({ advance: 90 })).json().now, '2030-01-01T00:01:30.000Z')
  const real = Date.parse((await post({ real: true })).json().now)
  t.ok(Math.abs(real - Date.now()) < 60_000, 'real time again')
  t.equal((await post({ advance: 'soon' })).statusCode, 400, 'bad input is a 400')
})

t.test('reset forgets sessions but keeps the clients, their secrets and the users', async (t) => {
  const login = () =>
    controlled.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'password',
        username: 'alice',
        password: 'alice-password-1',
        client_id: controlled.client.clientId,
        client_secret: controlled.client.clientSecret,
      }).toString(),
    })
  const before = await login()
  t.equal(before.statusCode, 200)
  t.equal((await controlled.app.inject({ method: 'POST', url: '/_test/reset', payload: {} })).statusCode, 200)
  const refreshed = await controlled.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: before.json().refresh_token,
      client_id: controlled.client.clientId,
      client_secret: controlled.client.clientSecret,
    }).toString(),
  })
  t.equal(refreshed.json().error, 'invalid_grant', 'the session is gone')
  t.equal((await login()).statusCode, 200, 'the client and the user are still there')
})

t.test('the key client and the platform: what GET /_test tells another language, and platform tokens', async (t) => {
  const issuer = await createTestIssuer({ controls: true, platform: true })
  t.teardown(() => issuer.close())
  const info = (await issuer.app.inject({ url: '/_test' })).json()
  t.match(info.key_client, { client_id: 'test-key-client', alg: 'ES256', kid: issuer.keyClient.kid })
  t.equal(info.key_client.private_jwk.kty, 'EC', 'the private JWK to sign assertions with')
  t.match(info.platform, { issuer: issuer.platform?.issuer })
  t.match(info.workload_client, { client_id: 'test-workload', subject: 'system:serviceaccount:default:test-workload' })
  const minted = await issuer.app.inject({ method: 'POST', url: '/_test/platform/tokens', payload: {} })
  t.equal(minted.statusCode, 200)
  const res = await issuer.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: minted.json().token,
    }).toString(),
  })
  t.equal(res.statusCode, 200, res.body)
  const none = await controlled.app.inject({ method: 'POST', url: '/_test/platform/tokens', payload: {} })
  t.equal(none.statusCode, 404, 'an issuer without a platform says so')
})
