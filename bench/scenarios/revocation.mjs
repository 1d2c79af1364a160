// Revocation benchmarks: revoke-to-deny latency at several verifiers under load, and how fast the auth server
// publishes revocations and fans them out to many followers.
import { request } from 'node:http'
import { form, formHeaders, SERVICE, USER, WEB } from '../fixtures.mjs'
import { cannon, sleep } from '../lib.mjs'

const percentile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

const status = async (url, token) =>
  (await fetch(url, { headers: { authorization: `Bearer ${token}` } }).catch(() => ({ status: 0 }))).status

/**
 * `samples` times: a user signs in, every verifier accepts the token, its session is revoked, and each verifier is
 * polled until it refuses it. Meanwhile each verifier serves autocannon load on /v1/me. Latencies are from the
 * revoking answer to each verifier's first refusal.
 */
export async function revocationLatency({ issuer, apis, samples, loadToken, durationHint }) {
  const tokenUrl = `${issuer}/oauth/token`
  const login = async () => {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: formHeaders(WEB),
      body: form({ grant_type: 'password', username: USER.username, password: USER.password }),
    })
    return res.json()
  }
  let loading = true
  const load = Promise.all(
    apis.map(async (api) => {
      while (loading) {
        await cannon({
          url: `${api}/v1/me`,
          headers: { authorization: `Bearer ${loadToken}` },
          connections: 10,
          duration: durationHint,
        })
      }
    }),
  )
  const latencies = []
  try {
    for (let i = 0; i < samples; i++) {
      const tokens = await login()
      for (const api of apis) while ((await status(`${api}/v1/me`, tokens.access_token)) !== 200) await sleep(5)
      await fetch(`${issuer}/oauth/revoke`, {
        method: 'POST',
        headers: formHeaders(WEB),
        body: form({ token: tokens.refresh_token }),
      })
      const revokedAt = performance.now()
      await Promise.all(
        apis.map(async (api) => {
          while ((await status(`${api}/v1/me`, tokens.access_token)) !== 401) {
            if (performance.now() - revokedAt > 10_000) throw new Error(`${api} still accepts a revoked token`)
            await sleep(2)
          }
          latencies.push(performance.now() - revokedAt)
        }),
      )
    }
  } finally {
    loading = false
    await load
  }
  const sorted = latencies.sort((a, b) => a - b)
  return { samples: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) }
}

/** An SSE follower that only counts the revocation events it receives. */
function countingFollower(url) {
  let count = 0
  let buffer = ''
  const req = request(url, { headers: { accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8')
    res.on('data', (chunk) => {
      buffer += chunk
      const parts = buffer.split('event: revocation\n')
      count += parts.length - 1
      buffer = parts.at(-1) ?? ''
    })
  })
  req.on('error', () => {})
  req.end()
  return {
    get count() {
      return count
    },
    close: () => req.destroy(),
  }
}

/**
 * `followers` SSE followers connect; `events` access tokens are revoked as fast as 20 concurrent callers can; the
 * publish rate is revocations answered per second, the fan-out rate events delivered per second until every
 * follower has every event.
 */
export async function eventFanOut({ issuer, followers, events }) {
  const tokenUrl = `${issuer}/oauth/token`
  const tokens = []
  for (let i = 0; i < events; i++) {
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: formHeaders(SERVICE),
      body: form({ grant_type: 'client_credentials' }),
    })
    tokens.push((await res.json()).access_token)
  }
  // From the newest event on, so the backlog does not count.
  const { cursor } = await (await fetch(`${issuer}/revocation-events?limit=1000`)).json()
  let after = cursor
  for (;;) {
    const page = await (await fetch(`${issuer}/revocation-events?limit=1000${after ? `&after=${after}` : ''}`)).json()
    if (!page.more) {
      after = page.cursor ?? after
      break
    }
    after = page.cursor
  }
  const url = `${issuer}/revocation-events${after ? `?after=${after}` : ''}`
  const streams = Array.from({ length: followers }, () => countingFollower(url))
  await sleep(500)
  const started = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < tokens.length) {
        const token = tokens[next++]
        await fetch(`${issuer}/oauth/revoke`, { method: 'POST', headers: formHeaders(SERVICE), body: form({ token }) })
      }
    }),
  )
  const published = performance.now() - started
  while (streams.some((s) => s.count < events)) {
    if (performance.now() - started > 60_000) break
    await sleep(5)
  }
  const delivered = performance.now() - started
  const received = streams.reduce((a, s) => a + s.count, 0)
  for (const s of streams) s.close()
  return {
    publishedPerSecond: (events / published) * 1000,
    deliveredPerSecond: (received / delivered) * 1000,
    complete: received === events * followers,
    fanOutMs: delivered,
  }
}

/** Revokes `count` service tokens, so the verifiers hold that many denials during a throughput run. */
export async function seedDenials(issuer, count) {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async () => {
        const res = await fetch(`${issuer}/oauth/token`, {
          method: 'POST',
          headers: formHeaders(SERVICE),
          body: form({ grant_type: 'client_credentials' }),
        })
        const { access_token: token } = await res.json()
        await fetch(`${issuer}/oauth/revoke`, { method: 'POST', headers: formHeaders(SERVICE), body: form({ token }) })
      }),
    )
  }
}
