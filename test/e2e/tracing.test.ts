// Tracing (issue 28): with OTEL_EXPORTER_OTLP_ENDPOINT set, the auth server and the resource API send OpenTelemetry
// traces to a collector (here a test OTLP/HTTP receiver), continuing the caller's W3C traceparent, with spans for the
// grant, client authentication and every Redis script — and no token or secret in any attribute.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { ALICE, SERVICE, WEB } from '../support/fixtures.js'
import { startOtlpReceiver } from '../support/otlp.js'

const receiver = await startOtlpReceiver()
t.teardown(() => receiver.close())
const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' }
const stack = await startE2e(t, { api: { env: otel }, env: otel })

t.test('a token request carrying a traceparent: one trace through the token endpoint to Redis', async (t) => {
  const traceId = randomBytes(16).toString('hex')
  const parentId = randomBytes(8).toString('hex')
  const res = await fetch(stack.tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${SERVICE.id}:${SERVICE.secret}`).toString('base64')}`,
      traceparent: `00-${traceId}-${parentId}-01`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })
  t.equal(res.status, 200)
  const { access_token } = (await res.json()) as { access_token: string }
  const spans = await receiver.waitFor((s) => s.some((x) => x.traceId === traceId && x.name === 'tollgate.grant'))
  const ours = spans.filter((s) => s.traceId === traceId)
  const server = ours.find((s) => s.name === 'POST /oauth/token')
  t.ok(server, 'a server span for the route')
  t.equal(server?.parentSpanId, parentId, "it continues the caller's span")
  t.equal(server?.service, 'tollgate-auth-server')
  const grant = ours.find((s) => s.name === 'tollgate.grant')
  t.equal(grant?.parentSpanId, server?.spanId, 'the grant under the request')
  t.equal(grant?.attributes['oauth.grant_type'], 'client_credentials')
  const auth = ours.find((s) => s.name === 'tollgate.client_authentication')
  t.equal(auth?.parentSpanId, server?.spanId)
  for (const body of receiver.bodies) {
    t.notOk(body.includes(SERVICE.secret), 'no client secret in any exported span')
    t.notOk(body.includes(access_token.split('.')[2] as string), 'no token in any exported span')
  }
})
