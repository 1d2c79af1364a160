// Following an issuer's revocation events: one Server-Sent Events subscription per process and issuer, resumed
// from its cursor after any disconnect; every SET verified against the issuer's keys before it counts.
import { KeyObject, type webcrypto } from 'node:crypto'
import type * as Jose from 'jose'
import type { KeySource } from '../access-token.js'
import type { AccessTokenClaims } from '../claims.js'
import { discover, endpoint } from '../lib/discovery.js'
import { algorithmOfKey, decodeJws, verifySignature } from '../lib/jws.js'
import { openEventStream, type SseMessage } from '../lib/sse.js'
import { tracingState, withSpan } from '../tracing.js'
import { Denials } from './denials.js'

/** The event types a verifier acts on (docs/revocation-events.md). */
export const EVENT_TYPES = {
  session: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  user: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  token: 'urn:tollgate:secevent:token-revoked',
  client: 'urn:tollgate:secevent:client-revoked',
} as const

export interface FollowerOptions {
  readonly issuer: string
  /** The events endpoint; by default `revocation_events_endpoint` from the issuer's metadata. */
  readonly eventsUri?: string | URL
  /** The issuer's keys (the verifier's JWKS key set): a SET that does not verify against them is ignored. */
  readonly keys: KeySource
  readonly fetch?: typeof fetch
  readonly now?: () => number
  /** The server sends a heartbeat every 2 s; a stream silent for this long is dropped and reopened. Default 10 s. */
  readonly stallMs?: number
}

export interface RevocationStatus {
  /** The backlog was received at least once: the denials cover everything up to the stream's start. */
  readonly caughtUp: boolean
  readonly connected: boolean
  /** Seconds since the follower last knew it was current (0 while the stream is live). */
  readonly lagSeconds: number
  /** Denials held now. */
  readonly denials: number
  /** The id of the last event applied (the resume cursor). */
  readonly cursor: string | undefined
  /** SETs refused (bad signature, wrong issuer or type): counted, never applied. */
  readonly rejected: number
}

/**
 * A SET's claims when it is signed by one of `keys` with the algorithm of the key its `kid` names (the access-token
 * rule: never `none`, an HMAC or a mismatch), typed `secevent+jwt` (RFC 8417 §2.3) and issued by `issuer`;
 * otherwise throws.
 */
async function verifiedSet(set: string, keys: KeySource, issuer: string): Promise<Jose.JWTPayload> {
  const { header, payload, signingInput, signature } = decodeJws(set, 64 * 1024)
  const found = await keys.getKey(header as Jose.JWSHeaderParameters)
  const key = found instanceof KeyObject ? found : KeyObject.from(found as unknown as webcrypto.CryptoKey)
  const alg = algorithmOfKey(key)
  if (alg === undefined || alg !== header.alg || !verifySignature(alg, key, signingInput, signature)) {
    throw new TypeError('the SET signature does not verify')
  }
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : undefined
  if (typ !== 'secevent+jwt' || payload.iss !== issuer) throw new TypeError('not a SET of this issuer')
  if (payload.iat !== undefined && typeof payload.iat !== 'number') throw new TypeError('iat is not a number')
  return payload as Jose.JWTPayload
}

/**
 * Follows one issuer's revocation feed into a {@link Denials} set.
 *
 * @example
 * const follower = new RevocationFollower({ issuer, keys })
 * follower.denies(claims) // true once the token's session, user, client or jti was revoked
 */
export class RevocationFollower {
  readonly #options: FollowerOptions
  readonly #now: () => number
  readonly #denials = new Denials()
  #cursor: string | undefined
  #caughtUp = false
  #connected = false
  #lastHeard: number
  #rejected = 0
  #stream: { close(): void } | undefined
  #closed = false
  #backoff = 100
  #ready: Promise<void>
  #resolveReady!: () => void
  /** Applies SETs one after another, in stream order. */
  #chain: Promise<void> = Promise.resolve()
  readonly #sweeper: NodeJS.Timeout

  constructor(options: FollowerOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#lastHeard = this.#now()
    this.#ready = new Promise((resolve) => {
      this.#resolveReady = resolve
    })
    this.#sweeper = setInterval(() => this.#denials.sweep(this.#now()), 30_000)
    this.#sweeper.unref()
    void this.#connect()
  }

  /** Resolves once the backlog has been received (the first time the follower is current). */
  ready(): Promise<void> {
    return this.#ready
  }

  denies(claims: AccessTokenClaims): boolean {
    return this.#denials.size > 0 && this.#denials.denies(claims, this.#now())
  }

  get status(): RevocationStatus {
    return {
      caughtUp: this.#caughtUp,
      connected: this.#connected,
      lagSeconds: this.lagSeconds(),
      denials: this.#denials.size,
      cursor: this.#cursor,
      rejected: this.#rejected,
    }
  }

  lagSeconds(): number {
    const silent = this.#now() - this.#lastHeard
    // Heartbeats come every 2 s: a live, current stream has no lag.
    if (this.#connected && this.#caughtUp && silent < 5_000) return 0
    return Math.round(silent / 100) / 10
  }

  async #uri(): Promise<URL> {
    if (this.#options.eventsUri) return new URL(this.#options.eventsUri)
    const doFetch = this.#options.fetch ?? globalThis.fetch
    const metadata = await discover(this.#options.issuer, async (url) => {
      const res = await doFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) })
      return { status: res.status, body: await res.json().catch(() => undefined) }
    })
    return new URL(endpoint(metadata, 'revocation_events_endpoint'))
  }

  async #connect(): Promise<void> {
    if (this.#closed) return
    let uri: URL
    try {
      uri = await this.#uri()
    } catch {
      return this.#retry()
    }
    if (this.#closed) return
    this.#stream = openEventStream(
      uri,
      this.#cursor,
      {
        onOpen: () => {
          this.#connected = true
        },
        onMessage: (message) => this.#onMessage(message),
        onClose: () => {
          this.#connected = false
          this.#stream = undefined
          this.#retry()
        },
      },
      this.#options.stallMs ?? 10_000,
    )
  }

  #retry(): void {
    if (this.#closed) return
    const delay = this.#backoff * (0.5 + Math.random() / 2)
    this.#backoff = Math.min(this.#backoff * 2, 5_000)
    setTimeout(() => void this.#connect(), delay).unref()
  }

  #onMessage(message: SseMessage): void {
    if (message.event === 'heartbeat') {
      // Everything before the heartbeat has been sent: once applied, the follower is current.
      this.#chain = this.#chain.then(() => {
        this.#lastHeard = this.#now()
        this.#backoff = 100
        if (!this.#caughtUp) {
          this.#caughtUp = true
          this.#resolveReady()
        }
      })
    } else if (message.event === 'revocation') {
      this.#chain = this.#chain.then(() => this.#apply(message))
    }
  }

  async #apply(message: SseMessage): Promise<void> {
    if (!tracingState.enabled) return this.#applyOnce(message)
    // One span per event applied (its cursor only: an event names opaque ids, which stay out of traces too).
    return withSpan('tollgate.revocation.apply', { 'tollgate.revocation.cursor': message.id ?? '' }, () =>
      this.#applyOnce(message),
    )
  }

  async #applyOnce(message: SseMessage): Promise<void> {
    try {
      this.#record(await verifiedSet(message.data, this.#options.keys, this.#options.issuer))
      if (message.id) this.#cursor = message.id
    } catch {
      // Forged, unsigned, of another issuer or malformed: it changes nothing. The cursor still moves past a
      // well-formed id, so a bad event is not fetched again and again.
      this.#rejected++
      if (message.id) this.#cursor = message.id
    }
  }

  #record(payload: Jose.JWTPayload): void {
    const events = payload.events
    const subject = payload.sub_id as Record<string, unknown> | undefined
    if (typeof events !== 'object' || events === null || typeof subject !== 'object' || subject === null) {
      throw new TypeError('not a revocation event')
    }
    const at = (payload.iat ?? 0) * 1000
    for (const [type, body] of Object.entries(events as Record<string, Record<string, unknown>>)) {
      const until = typeof body?.deny_until === 'number' ? body.deny_until * 1000 : at + 3_600_000
      const opaque = (value: unknown) =>
        typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string'
          ? (value as { id: string }).id
          : undefined
      const user = (value: unknown) => {
        const v = value as { iss?: unknown; sub?: unknown } | undefined
        return v?.iss === this.#options.issuer && typeof v.sub === 'string' ? v.sub : undefined
      }
      if (type === EVENT_TYPES.session) {
        const sid = opaque(subject.session)
        if (sid) this.#denials.session(sid, until)
      } else if (type === EVENT_TYPES.user) {
        const sub = user(subject)
        if (sub) this.#denials.user(sub, at, until)
      } else if (type === EVENT_TYPES.token) {
        const jti = opaque(subject)
        if (jti) this.#denials.token(jti, until)
      } else if (type === EVENT_TYPES.client) {
        const client = opaque(subject)
        if (client) this.#denials.client(client, at, until)
      }
    }
  }

  close(): void {
    this.#closed = true
    clearInterval(this.#sweeper)
    this.#stream?.close()
  }
}

const followers = new Map<string, RevocationFollower>()

/** The process's follower for an issuer (and events endpoint): created once, shared by every verifier. */
export function followerFor(options: FollowerOptions): RevocationFollower {
  const key = `${options.issuer} ${options.eventsUri ?? ''}`
  let follower = followers.get(key)
  if (!follower) {
    follower = new RevocationFollower(options)
    followers.set(key, follower)
  }
  return follower
}

/** Closes and forgets every shared follower (tests, shutdown). */
export function closeFollowers(): void {
  for (const follower of followers.values()) follower.close()
  followers.clear()
}
