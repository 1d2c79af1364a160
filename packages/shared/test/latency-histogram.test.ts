import t from 'tap'
import { LatencyHistogram, routeObserver } from '../src/service/index.js'

t.test('observations land in cumulative buckets per label set, with sum and count', async (t) => {
  const h = new LatencyHistogram('req_seconds', 'latency', [0.01, 0.1, 1])
  const orders = h.series({ route: '/orders', status: '200' })
  for (const v of [0.005, 0.01, 0.05, 0.5, 3]) orders.observe(v)
  h.series({ route: '/stock', status: '200' }).observe(0.2)
  const snap = h.get()
  t.match(snap, { name: 'req_seconds', help: 'latency', type: 'histogram', aggregator: 'sum' })
  const of = (route: string) =>
    snap.values.filter((v) => v.labels.route === route).map((v) => [v.metricName, v.labels.le ?? '', v.value])
  t.same(of('/orders'), [
    ['req_seconds_bucket', 0.01, 2],
    ['req_seconds_bucket', 0.1, 3],
    ['req_seconds_bucket', 1, 4],
    ['req_seconds_bucket', '+Inf', 5],
    ['req_seconds_sum', '', 3.565],
    ['req_seconds_count', '', 5],
  ])
  t.equal(of('/stock').at(-1)?.[2], 1)
  t.equal(h.series({ route: '/orders', status: '200' }) !== orders, true, 'a new handle…')
  h.series({ route: '/orders', status: '200' }).observe(0.001)
  t.equal(of('/orders').length, 6, '…onto the same series')
  t.equal(h.get().values.find((v) => v.metricName === 'req_seconds_count' && v.labels.route === '/orders')?.value, 6)
})

t.test('reset zeroes the series; handles bound before keep counting', async (t) => {
  const h = new LatencyHistogram('x', 'x', [1])
  const s = h.series({ a: '1' })
  s.observe(0.5)
  h.reset()
  t.equal(h.get().values.find((v) => v.metricName === 'x_count')?.value, 0)
  s.observe(2)
  t.same(
    h.get().values.map((v) => v.value),
    [0, 1, 2, 1],
  )
})

t.test('buckets must increase', async (t) => {
  t.throws(() => new LatencyHistogram('x', 'x', []), TypeError)
  t.throws(() => new LatencyHistogram('x', 'x', [1, 1]), TypeError)
})

t.test('routeObserver: one series per method, route and status', async (t) => {
  const h = new LatencyHistogram('http_seconds', 'latency', [0.01, 1])
  const observe = routeObserver(h)
  observe('GET', '/v1/me', 200, 0.005)
  observe('GET', '/v1/me', 200, 0.5)
  observe('GET', '/v1/me', 401, 0.001)
  observe('POST', '/v1/me', 200, 2)
  observe('GET', '/v1/notes', 200, 0.02)
  const counts = h
    .get()
    .values.filter((v) => v.metricName === 'http_seconds_count')
    .map((v) => [v.labels.method, v.labels.route, v.labels.status, v.value])
  t.same(counts, [
    ['GET', '/v1/me', '200', 2],
    ['GET', '/v1/me', '401', 1],
    ['POST', '/v1/me', '200', 1],
    ['GET', '/v1/notes', '200', 1],
  ])
})
