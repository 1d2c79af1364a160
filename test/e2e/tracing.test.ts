// Tracing (issue 28): with OTEL_EXPORTER_OTLP_ENDPOINT set, the auth server and the resource API send OpenTelemetry
// traces to a collector (here a test OTLP/HTTP receiver), continuing the caller's W3C traceparent, with spans for the
// grant, client authentication and every Redis script — and no token or secret in any attribute.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { startE2e } from '../support/e2e.js'
import { ALICE, SERVICE, WEB } from '../support/fixtures.js'
import { startOtlpReceiver } from '../support/otlp.js'
import { stopWith } from '../support/processes.js'
import { startGate } from '../support/services.js'

const receiver = await startOtlpReceiver()
t.teardown(() => receiver.close())
const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' }
const stack = await startE2e(t, { api: { env: otel }, env: { ...otel, TOKEN_RATE_LIMIT: '100000' } })

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

t.test('one trace from a TokenClient call through the token endpoint, Redis and the gate', async (t) => {
  const { startTracing } = await import('@tollgate/shared/service')
  const { TokenClient, trace, context } = await import('../support/tracing-client.js')
  // This test process is the calling service: it traces to the same receiver.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url
  process.env.OTEL_BSP_SCHEDULE_DELAY = '200'
  const tracing = await startTracing({ serviceName: 'orders-svc' })
  t.teardown(() => tracing.shutdown())
  const gate = await startGate({
    env: { ...otel, ISSUER: stack.issuer, AUDIENCE: stack.audience, REVOCATION_EVENTS: 'off', TRUST_PROXY: 'loopback' },
  })
  stopWith(t, { 'the gate': gate })
  const tokens = new TokenClient({ issuer: stack.issuer, clientId: SERVICE.id, clientSecret: SERVICE.secret })
  let traceId = ''
  await trace.getTracer('test').startActiveSpan('orders.place_order', async (root) => {
    traceId = root.spanContext().traceId
    await context.with(trace.setSpan(context.active(), root), async () => {
      // As Envoy calls it (its ext_authz request carries the scheme in X-Forwarded-Proto).
      const res = await tokens.fetch(`${gate.url}/ext-authz/orders/42`, { headers: { 'x-forwarded-proto': 'https' } })
      t.equal(res.status, 200, `the gate allowed the call (${res.status} ${res.headers.get('www-authenticate')})`)
    })
    root.end()
  })
  const spans = await receiver.waitFor(
    (s) =>
      s.some((x) => x.traceId === traceId && x.name === 'tollgate.gate.decide') &&
      s.some((x) => x.traceId === traceId && x.name === 'tollgate.grant') &&
      s.some((x) => x.traceId === traceId && x.name === 'orders.place_order'),
  )
  const ours = spans.filter((s) => s.traceId === traceId)
  const one = (name: string, service?: string) =>
    ours.find((s) => s.name === name && (service === undefined || s.service === service))
  const root = one('orders.place_order')
  const request = one('tollgate.token_request')
  const tokenServer = one('POST /oauth/token', 'tollgate-auth-server')
  const grant = one('tollgate.grant')
  const sign = one('tollgate.sign')
  const redis = ours.find((s) => s.name.startsWith('redis ') && s.service === 'tollgate-auth-server')
  const gateServer = ours.find((s) => s.service === 'tollgate-gate' && s.kind === 2)
  const decide = one('tollgate.gate.decide')
  const verify = one('tollgate.verify', 'tollgate-gate')
  t.equal(request?.parentSpanId, root?.spanId, 'the token request under the caller’s span')
  t.equal(tokenServer?.parentSpanId, request?.spanId, 'the auth server continues the token request')
  t.equal(grant?.parentSpanId, tokenServer?.spanId)
  t.equal(sign?.parentSpanId, grant?.spanId, 'signing under the grant')
  t.ok(redis, `a Redis script in the trace (${ours.map((s) => s.name).join(', ')})`)
  t.equal(gateServer?.parentSpanId, root?.spanId, 'the gate continues the caller’s span')
  t.equal(decide?.parentSpanId, gateServer?.spanId)
  t.equal(verify?.parentSpanId, decide?.spanId, 'the verification under the decision')
  t.equal(new Set(ours.map((s) => s.service)).size, 3, 'three services, one trace')
  for (const body of receiver.bodies) t.notOk(body.includes(SERVICE.secret), 'no client secret in any span')
})
