// Issue 22: /metrics can be protected (METRICS_TOKEN), and by default lists no client identifiers.
import t from 'tap'
import { basic, form, SERVICE_SECRET, testServer } from '../helpers.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const TOKEN = 'scrape-me-0123456789abcdef'

async function issueOne(app: Awaited<ReturnType<typeof testServer>>['app']) {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...FORM, authorization: basic('service', SERVICE_SECRET) },
    payload: form({ grant_type: 'client_credentials' }),
  })
  t.equal(res.statusCode, 200)
}

t.test('by default /metrics is open and names no client', async (t) => {
  const { app } = await testServer()
  await issueOne(app)
  const res = await app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.body, /tollgate_tokens_issued_total\{grant="client_credentials"\} 1/)
  t.notMatch(res.body, /client_id=/, 'no client_id label anywhere')
  t.notMatch(res.body, /"service"/)
})

t.test('METRICS_CLIENT_LABELS=on labels counters by client', async (t) => {
  const { app } = await testServer({ METRICS_CLIENT_LABELS: 'on' })
  await issueOne(app)
  t.match(
    (await app.inject({ url: '/metrics' })).body,
    /tollgate_tokens_issued_total\{grant="client_credentials",client_id="service"\} 1/,
  )
})

t.test('METRICS_TOKEN: a scrape without it is 401 with a Bearer challenge; with it, 200', async (t) => {
  const { app } = await testServer({ METRICS_TOKEN: TOKEN })
  const none = await app.inject({ url: '/metrics' })
  t.equal(none.statusCode, 401)
  t.equal(none.headers['www-authenticate'], 'Bearer realm="metrics"')
  t.notMatch(none.body, /tollgate_/)
  const wrong = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}x` } })
  t.equal(wrong.statusCode, 401)
  const ok = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /tollgate_http_request_duration_seconds/)
})

t.test('a short METRICS_TOKEN is a configuration error naming the variable', async (t) => {
  await t.rejects(testServer({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN: must be at least 16 characters/)
})

t.test('with METRICS_PORT the service port does not serve /metrics', async (t) => {
  const { app } = await testServer({ METRICS_PORT: '9464' })
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 404)
})
