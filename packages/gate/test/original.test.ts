// Reading the original request from a proxy's headers: one family, or two that agree; the request line for Envoy.
import type { IncomingHttpHeaders } from 'node:http'
import t, { type Test } from 'tap'
import { GateRefusal } from '../src/errors.js'
import { extAuthzRequestOf, verifyRequestOf } from '../src/original.js'
import { trustedPeers } from '../src/trust.js'

const traefik: IncomingHttpHeaders = {
  'x-forwarded-method': 'POST',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'shop.example:8443',
  'x-forwarded-uri': '/orders/7?expand=items',
}
const nginx: IncomingHttpHeaders = {
  'x-original-method': 'POST',
  'x-original-url': 'https://shop.example:8443/orders/7?expand=items',
}

function refusal(t: Test, fn: () => unknown, reason: string, message: RegExp) {
  try {
    fn()
    t.fail('accepted')
  } catch (err) {
    t.ok(err instanceof GateRefusal, 'a GateRefusal')
    t.equal((err as GateRefusal).reason, reason)
    t.equal((err as GateRefusal).status, 401)
    t.match((err as Error).message, message)
  }
}

t.test('X-Forwarded-* (Traefik, Caddy) describes the request', async (t) => {
  const r = verifyRequestOf(traefik)
  t.equal(r.method, 'POST')
  t.equal(r.host, 'shop.example:8443')
  t.equal(r.path, '/orders/7')
  t.equal(r.url.href, 'https://shop.example:8443/orders/7', 'htu: scheme, host and path, no query')
})

t.test('X-Original-* (nginx) describes the same request', async (t) => {
  const r = verifyRequestOf(nginx)
  t.equal(r.method, 'POST')
  t.equal(r.url.href, 'https://shop.example:8443/orders/7')
  const withUri = verifyRequestOf({ ...nginx, 'x-original-uri': '/orders/7?expand=items' })
  t.equal(withUri.path, '/orders/7', 'X-Original-URI beside X-Original-URL, when they agree')
  const bare = verifyRequestOf({ 'x-original-method': 'GET', 'x-original-url': 'http://a.example' })
  t.equal(bare.path, '/')
})

t.test('both families: accepted when they agree, refused when they disagree', async (t) => {
  t.equal(verifyRequestOf({ ...traefik, ...nginx }).path, '/orders/7')
  refusal(
    t,
    () => verifyRequestOf({ ...traefik, 'x-original-uri': '/health', 'x-original-method': 'POST' }),
    'header_families',
    /X-Forwarded-\* and X-Original-\* name different URIs/,
  )
  refusal(t, () => verifyRequestOf({ ...nginx, 'x-forwarded-method': 'GET' }), 'header_families', /methods/)
  refusal(t, () => verifyRequestOf({ ...nginx, 'x-forwarded-host': 'evil.example' }), 'header_families', /hosts/)
  refusal(t, () => verifyRequestOf({ ...nginx, 'x-forwarded-proto': 'http' }), 'header_families', /schemes/)
  refusal(
    t,
    () => verifyRequestOf({ ...nginx, 'x-original-uri': '/health' }),
    'header_families',
    /X-Original-URI and X-Original-URL/,
  )
  t.equal(
    verifyRequestOf({ ...nginx, 'x-forwarded-host': 'SHOP.example:8443', 'x-forwarded-proto': 'HTTPS' }).host,
    'shop.example:8443',
    'host and scheme compare case-insensitively',
  )
})

t.test('an empty header counts as absent (a proxy blanking the other family)', async (t) => {
  const blanked = {
    ...nginx,
    'x-forwarded-method': '',
    'x-forwarded-proto': '',
    'x-forwarded-host': '',
    'x-forwarded-uri': '',
  }
  t.equal(verifyRequestOf(blanked).url.href, 'https://shop.example:8443/orders/7')
})

t.test('every part is needed: the gate does not guess', async (t) => {
  refusal(t, () => verifyRequestOf({}), 'original_request', /no description of the original request/)
  const { 'x-forwarded-method': _m, ...noMethod } = traefik
  refusal(t, () => verifyRequestOf(noMethod), 'original_request', /which method .*X-Forwarded-Method/)
  const { 'x-forwarded-proto': _p, ...noProto } = traefik
  refusal(t, () => verifyRequestOf(noProto), 'original_request', /which scheme/)
  const { 'x-forwarded-host': _h, ...noHost } = traefik
  refusal(t, () => verifyRequestOf(noHost), 'original_request', /which host/)
  refusal(
    t,
    () => verifyRequestOf({ 'x-original-method': 'GET', 'x-original-uri': '/x' }),
    'original_request',
    /scheme/,
  )
})

t.test('malformed descriptions are refused with a description, never thrown as anything else', async (t) => {
  const bad: [IncomingHttpHeaders, RegExp][] = [
    [{ ...traefik, 'x-forwarded-host': 'a b' }, /host is malformed/],
    [{ ...traefik, 'x-forwarded-host': 'evil.example@shop.example' }, /host is malformed/],
    [{ ...traefik, 'x-forwarded-host': 'shop.example/admin' }, /host is malformed/],
    [{ ...traefik, 'x-forwarded-host': 'a.example, b.example' }, /host is malformed/],
    [{ ...traefik, 'x-forwarded-host': '[zz]' }, /malformed/],
    [{ ...traefik, 'x-forwarded-host': 'ex%ample' }, /malformed/],
    [{ ...traefik, 'x-forwarded-uri': 'orders' }, /URI is malformed/],
    [{ ...traefik, 'x-forwarded-uri': '/a b' }, /URI is malformed/],
    [{ ...traefik, 'x-forwarded-uri': '/a#b' }, /URI is malformed/],
    [{ ...traefik, 'x-forwarded-proto': 'ftp' }, /neither http nor https/],
    [{ ...traefik, 'x-forwarded-method': 'GE T' }, /not an HTTP method/],
    [{ 'x-original-method': 'GET', 'x-original-url': '/relative' }, /X-Original-URL is not an absolute URL/],
  ]
  for (const [headers, message] of bad) refusal(t, () => verifyRequestOf(headers), 'original_request', message)
})

t.test('Envoy ext_authz: the request line is the original request; a header family must agree with it', async (t) => {
  const r = extAuthzRequestOf('/ext-authz', 'DELETE', '/ext-authz/orders/7?x=1', {
    host: 'shop.example',
    'x-forwarded-proto': 'https',
  })
  t.equal(r.method, 'DELETE')
  t.equal(r.path, '/orders/7')
  t.equal(r.url.href, 'https://shop.example/orders/7')
  refusal(
    t,
    () =>
      extAuthzRequestOf('/ext-authz', 'GET', '/ext-authz/admin', {
        host: 'shop.example',
        'x-forwarded-proto': 'https',
        'x-original-uri': '/health',
      }),
    'header_families',
    /name different URIs/,
  )
  refusal(
    t,
    () => extAuthzRequestOf('/ext-authz', 'GET', '/ext-authz/admin', { host: 'shop.example' }),
    'original_request',
    /scheme .*X-Forwarded-Proto/,
  )
})

t.test('TRUST_PROXY: addresses, ranges and names; IPv4-mapped peers', async (t) => {
  const trusted = trustedPeers('loopback, 10.1.0.0/16, 2001:db8::1')
  for (const peer of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '10.1.200.3', '2001:db8::1']) {
    t.ok(trusted(peer), `${peer} trusted`)
  }
  for (const peer of ['10.2.0.1', '192.168.1.1', '::ffff:10.2.0.1', '2001:db8::2', undefined, 'nonsense']) {
    t.notOk(trusted(peer), `${peer} not trusted`)
  }
  t.ok(trustedPeers('uniquelocal')('192.168.3.4'))
  for (const bad of ['', 'localhost', '10.0.0.0/33', '10.0.0.0/8/1', '::1/129', '1.2.3.4/x']) {
    t.throws(() => trustedPeers(bad), TypeError, JSON.stringify(bad))
  }
})
