// The verifier following revocation events from a real SSE server: denials applied on cache hits too, forged SETs
// ignored, resume from the cursor after a dropped connection, lag reported and bounded.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, UnsecuredJWT } from 'jose'
import t from 'tap'
import { createVerifier, type TollgateTokenError } from '../src/index.js'
import { Denials } from '../src/revocation/denials.js'
import { closeFollowers, EVENT_TYPES } from '../src/revocation/follower.js'
import { AUDIENCE, claims, ISSUER, jwksServer, makeKey, mint, nowSec } from './helpers.js'

const key = await makeKey('k1')
const stranger = await makeKey('k1') // same kid, another key: a forgery
const jwks = jwksServer([key.jwk])

/** A revocation feed: every stream gets the backlog after its Last-Event-ID, a heartbeat, then live events. */
function feedServer() {
  const log: { id: string; set: string }[] = []
  const streams = new Set<ServerResponse>()
  const lastEventIds: (string | undefined)[] = []
  const server = createServer((req, res) => {
    const after = req.headers['last-event-id'] as string | undefined
    lastEventIds.push(after)
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const start = after ? log.findIndex((e) => e.id === after) + 1 : 0
    for (const e of log.slice(start)) res.write(`id: ${e.id}\nevent: revocation\ndata: ${e.set}\n\n`)
    res.write('event: heartbeat\ndata: {}\n\n')
    streams.add(res)
    req.on('close', () => streams.delete(res))
  })
  const beat = setInterval(() => {
    for (const res of streams) res.write('event: heartbeat\ndata: {}\n\n')
  }, 200)
  return {
    server,
    lastEventIds,
    streams,
    publish(set: string) {
      const entry = { id: `${Date.now()}-${log.length}`, set }
      log.push(entry)
      for (const res of streams) res.write(`id: ${entry.id}\nevent: revocation\ndata: ${set}\n\n`)
    },
    /** Drops every open stream (the follower must reconnect and resume). */
    drop() {
      for (const res of streams) res.destroy()
    },
    close() {
      clearInterval(beat)
      for (const res of streams) res.destroy()
      server.close()
    },
  }
}

const sessionEvent = (sid: string, signer = key, overrides: Record<string, unknown> = {}) =>
  new SignJWT({
    jti: `set-${sid}`,
    sub_id: { format: 'complex', session: { format: 'opaque', id: sid } },
    events: { [EVENT_TYPES.session]: { event_timestamp: nowSec(), deny_until: nowSec() + 600 } },
    ...overrides,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'secevent+jwt', kid: signer.kid })
    .setIssuer((overrides.iss as string | undefined) ?? ISSUER)
    .setIssuedAt()
    .sign(signer.privateKey)

const feed = feedServer()
await new Promise<void>((resolve) => feed.server.listen(0, '127.0.0.1', resolve))
t.teardown(() => {
  closeFollowers()
  feed.close()
})
const eventsUri = `http://127.0.0.1:${(feed.server.address() as AddressInfo).port}/events`
const verifier = createVerifier({
  issuer: ISSUER,
  audience: AUDIENCE,
  jwksUri: 'https://auth.test/jwks',
  fetch: jwks.fetch,
  revocation: { eventsUri },
})
const revocation = verifier.revocation
if (!revocation) throw new Error('revocation is on')
await revocation.ready()

const refusal = (token: string) =>
  verifier.verify(token).then(
    () => undefined,
    (err: TollgateTokenError) => err.code,
  )
const eventually = async (check: () => Promise<boolean> | boolean) => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 10))
  }
  return false
}

t.test('a revoked session’s token is refused, cached or not; other sessions’ tokens are not', async (t) => {
  const doomed = await mint(key, claims({ sid: 'sid-doomed', jti: 'a' }))
  const other = await mint(key, claims({ sid: 'sid-other', jti: 'b' }))
  t.ok(await verifier.verify(doomed), 'verified once: now in the cache')
  feed.publish(await sessionEvent('sid-doomed'))
  t.ok(await eventually(async () => (await refusal(doomed)) === 'ERR_TOKEN_REVOKED'), 'refused after the event')
  t.equal(verifier.cached(doomed), undefined, 'the cache does not answer for it')
  t.equal(await refusal(other), undefined)
  t.equal(revocation.status.denials, 1)
})

t.test('a forged, unsigned or foreign event changes nothing', async (t) => {
  const token = await mint(key, claims({ sid: 'sid-kept', jti: 'c' }))
  const rejected = revocation.status.rejected
  feed.publish(await sessionEvent('sid-kept', stranger))
  feed.publish(
    new UnsecuredJWT({ sub_id: { format: 'complex', session: { format: 'opaque', id: 'sid-kept' } }, events: {} })
      .setIssuer(ISSUER)
      .encode(),
  )
  feed.publish(await sessionEvent('sid-kept', key, { iss: 'https://evil.test' }))
  t.ok(await eventually(() => revocation.status.rejected === rejected + 3), 'three SETs rejected')
  t.equal(await refusal(token), undefined, 'the token still works')
})

t.test('SETs signed ES256 or EdDSA count; an alg other than that of the key its kid names does not', async (t) => {
  const { generateKeyPairSync, createHmac } = await import('node:crypto')
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ed = generateKeyPairSync('ed25519')
  const jwkOf = (k: import('node:crypto').KeyObject, kid: string) => ({ ...k.export({ format: 'jwk' }), kid })
  jwks.state.keys = [key.jwk, jwkOf(ec.publicKey, 'ec1'), jwkOf(ed.publicKey, 'ed1')]
  await verifier.keys.refresh()
  const set = (sid: string, alg: string, kid: string, signer: import('node:crypto').KeyObject) =>
    new SignJWT({
      sub_id: { format: 'complex', session: { format: 'opaque', id: sid } },
      events: { [EVENT_TYPES.session]: { event_timestamp: nowSec(), deny_until: nowSec() + 600 } },
    })
      .setProtectedHeader({ alg, typ: 'secevent+jwt', kid })
      .setIssuer(ISSUER)
      .setIssuedAt()
      .sign(signer)
  const tokens = Object.fromEntries(
    await Promise.all(
      ['es', 'ed', 'swapped', 'hmac'].map(async (sid) => [
        sid,
        await mint(key, claims({ sid: `sid-${sid}`, jti: sid })),
      ]),
    ),
  ) as Record<string, string>
  const rejected = revocation.status.rejected
  // An ES256 signature presented under the Ed25519 key's kid, and an HMAC keyed with the RSA public key.
  feed.publish(await set('sid-swapped', 'ES256', 'ed1', ec.privateKey))
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${enc({ alg: 'HS256', typ: 'secevent+jwt', kid: key.kid })}.${enc({
    iss: ISSUER,
    iat: nowSec(),
    sub_id: { format: 'complex', session: { format: 'opaque', id: 'sid-hmac' } },
    events: { [EVENT_TYPES.session]: { deny_until: nowSec() + 600 } },
  })}`
  feed.publish(`${input}.${createHmac('sha256', JSON.stringify(key.jwk)).update(input).digest('base64url')}`)
  feed.publish(await set('sid-es', 'ES256', 'ec1', ec.privateKey))
  feed.publish(await set('sid-ed', 'EdDSA', 'ed1', ed.privateKey))
  t.ok(await eventually(async () => (await refusal(tokens.ed as string)) === 'ERR_TOKEN_REVOKED'), 'EdDSA SET applied')
  t.equal(await refusal(tokens.es as string), 'ERR_TOKEN_REVOKED', 'ES256 SET applied')
  t.equal(revocation.status.rejected, rejected + 2, 'the swapped and the HMAC SETs were rejected')
  t.equal(await refusal(tokens.swapped as string), undefined)
  t.equal(await refusal(tokens.hmac as string), undefined)
  jwks.state.keys = [key.jwk]
})

t.test('after a dropped connection the follower resumes from its cursor and misses nothing', async (t) => {
  const token = await mint(key, claims({ sid: 'sid-later', jti: 'd' }))
  const cursor = revocation.status.cursor
  const opened = feed.lastEventIds.length
  feed.drop()
  // Published while the follower is away: only the backlog after its cursor can bring it.
  feed.publish(await sessionEvent('sid-later'))
  t.ok(await eventually(() => feed.lastEventIds.length > opened), 'it reconnected')
  t.equal(feed.lastEventIds.at(-1), cursor, 'with Last-Event-ID = the last event it had applied')
  t.ok(await eventually(async () => (await refusal(token)) === 'ERR_TOKEN_REVOKED'))
})

t.test('users, clients and jtis: denied as the events say', async (t) => {
  const iat = nowSec() - 10
  const userToken = await mint(key, claims({ sub: 'bob', jti: 'e', iat }))
  const clientToken = await mint(key, claims({ client_id: 'gone', jti: 'f', iat }))
  const jtiToken = await mint(key, claims({ jti: 'revoked-jti' }))
  const event = (type: string, subId: unknown) =>
    new SignJWT({ sub_id: subId, events: { [type]: { event_timestamp: nowSec(), deny_until: nowSec() + 600 } } })
      .setProtectedHeader({ alg: 'RS256', typ: 'secevent+jwt', kid: key.kid })
      .setIssuer(ISSUER)
      .setIssuedAt()
      .sign(key.privateKey)
  feed.publish(await event(EVENT_TYPES.user, { format: 'iss_sub', iss: ISSUER, sub: 'bob' }))
  feed.publish(await event(EVENT_TYPES.client, { format: 'opaque', id: 'gone' }))
  feed.publish(await event(EVENT_TYPES.token, { format: 'opaque', id: 'revoked-jti' }))
  for (const token of [userToken, clientToken, jtiToken]) {
    t.ok(await eventually(async () => (await refusal(token)) === 'ERR_TOKEN_REVOKED'))
  }
  const later = await mint(key, claims({ sub: 'bob', jti: 'g', iat: nowSec() + 2 }))
  t.equal(await refusal(later), undefined, 'a token the user got after being re-enabled is accepted')
})

t.test('the denial set: held until it expires, bounded by sweeping', async (t) => {
  const denials = new Denials()
  const now = 1_000_000
  denials.session('s', now + 10)
  denials.token('j', now + 5)
  denials.user('u', now - 100, now + 10)
  const token = (over: Record<string, unknown>) =>
    ({ iss: ISSUER, sub: 'x', aud: AUDIENCE, exp: 0, iat: 0, jti: 'none', client_id: 'c', scope: '', ...over }) as never
  t.equal(denials.denies(token({ sid: 's' }), now), true)
  t.equal(denials.denies(token({ sid: 's' }), now + 10), false, 'expired with its until')
  t.equal(denials.denies(token({ jti: 'j' }), now + 1), true)
  t.equal(denials.denies(token({ sub: 'u', iat: (now - 200) / 1000 }), now), true, 'issued before the revocation')
  t.equal(denials.denies(token({ sub: 'u', iat: now / 1000 }), now), false, 'issued after it')
  t.equal(denials.size, 3)
  denials.sweep(now + 6)
  t.equal(denials.size, 2, 'the jti is forgotten')
  denials.sweep(now + 10)
  t.equal(denials.size, 0)
})

t.test('lag: reported while the feed is away; with maxLagSec, tokens are refused past it', async (t) => {
  let now = Date.now()
  const lagged = createVerifier({
    issuer: 'https://lag.test',
    audience: AUDIENCE,
    jwksUri: 'https://auth.test/jwks',
    fetch: jwks.fetch,
    // Nothing listens there: the feed is unreachable from the start.
    revocation: { eventsUri: 'http://127.0.0.1:9/events', maxLagSec: 30 },
    now: () => now,
  })
  const token = await mint(key, claims({ iss: 'https://lag.test', jti: 'h' }))
  t.equal(lagged.revocation?.status.caughtUp, false)
  t.equal(lagged.revocation?.lagging, false, 'within the bound')
  t.ok(await lagged.verify(token), 'served while within the bound')
  now += 31_000
  t.ok((lagged.revocation?.status.lagSeconds ?? 0) > 30)
  t.equal(
    await lagged.verify(token).then(
      () => undefined,
      (err: TollgateTokenError) => `${err.status} ${err.code}`,
    ),
    '503 ERR_REVOCATION_LAG',
  )
  t.equal(lagged.cached(token), undefined)
})
