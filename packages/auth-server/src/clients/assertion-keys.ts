// The keys client assertions are checked against: a client's own (inline `jwks`, or its `jwks_uri` fetched, cached
// and refetched on an unknown `kid`) and each trusted issuer's (its `jwks_uri`, or the one its discovery document
// names) — the verifiers' JWKS cache of @tollgate/shared, bounded in number and in size.
import {
  createKeySet,
  DiscoveryError,
  discover,
  endpoint,
  entryFits,
  importJwks,
  type KeySet,
  type KeySetEntry,
} from '@tollgate/shared'
import type { JWSHeaderParameters } from 'jose'
import type { ClientRecord } from '../store/types.js'
import { keyUrlProblem } from './key-urls.js'
import type { TrustedIssuer } from './trusted-issuers.js'

/** The keys one assertion may be checked with; see {@link KeySet.candidates}. */
export interface CandidateKeys {
  candidates(header: JWSHeaderParameters, afterFailure?: boolean): Promise<readonly KeySetEntry[]>
}

/**
 * An unknown `kid` refetches a client's or issuer's JWKS at most this often: a client that rotates its key is
 * picked up within this long of its first assertion under the new key, and an attacker sending random `kid`s gets
 * one fetch per this interval.
 */
export const ASSERTION_JWKS_COOLDOWN_MS = 5_000
/** Keys are refreshed in the background when older than this. */
const MAX_AGE_MS = 300_000
/** Key sets kept at once (clients with a `jwks_uri`, trusted issuers); the least recently used goes first. */
const MAX_SETS = 1_000
/** A client's or platform's JWKS is a handful of keys. */
const MAX_JWKS_BYTES = 64 * 1024

export interface AssertionKeysOptions {
  readonly trustedIssuers: readonly TrustedIssuer[]
  readonly fetch?: typeof fetch
  readonly now?: () => number
  /** Abort a JWKS or discovery fetch after this long. Default 5 000 ms. */
  readonly timeoutMs?: number
}

/** Inline keys as a key source: the same selection by `kid` (or by algorithm without one) as a fetched set. */
function staticKeys(jwks: NonNullable<ClientRecord['jwks']>): CandidateKeys {
  const { byKid, unnamed } = importJwks(jwks, 'any')
  return {
    async candidates(header) {
      if (typeof header.kid === 'string') {
        const entry = byKid.get(header.kid)
        return entry ? [entry] : []
      }
      return [...byKid.values(), ...unnamed].filter((e) => entryFits(e, String(header.alg)))
    },
  }
}

/**
 * Every key set assertions are checked with, created on first use and kept (bounded) across requests.
 *
 * @example
 * const keys = new AssertionKeys({ trustedIssuers })
 * const entries = await keys.forClient(client).candidates(header)
 */
export class AssertionKeys {
  readonly #issuers: ReadonlyMap<string, TrustedIssuer>
  readonly #options: AssertionKeysOptions
  /** Fetched sets by URL (a client's `jwks_uri`) or issuer (`iss:` prefix), least recently used first. */
  readonly #sets = new Map<string, KeySet>()
  /** Imported inline keys by client, with the JWK Set they came from (a changed record imports again). */
  readonly #inline = new Map<string, { jwks: ClientRecord['jwks']; keys: CandidateKeys }>()

  constructor(options: AssertionKeysOptions) {
    this.#options = options
    this.#issuers = new Map(options.trustedIssuers.map((t) => [t.issuer, t]))
  }

  /** The trusted issuer named `iss`, if any. */
  trusted(iss: string): TrustedIssuer | undefined {
    return this.#issuers.get(iss)
  }

  /** A client's own keys; undefined when it registered none. */
  forClient(client: ClientRecord): CandidateKeys | undefined {
    if (client.jwks) {
      const hit = this.#inline.get(client.clientId)
      if (hit && hit.jwks === client.jwks) return hit.keys
      const keys = staticKeys(client.jwks)
      if (this.#inline.size >= MAX_SETS) this.#inline.delete(this.#inline.keys().next().value as string)
      this.#inline.set(client.clientId, { jwks: client.jwks, keys })
      return keys
    }
    if (client.jwksUri) return this.#set(client.jwksUri, () => client.jwksUri as string)
    return undefined
  }

  /** A trusted issuer's keys: its `jwks_uri`, or the one its discovery document names (which must be https too). */
  forIssuer(issuer: TrustedIssuer): CandidateKeys {
    const { jwksUri } = issuer
    return this.#set(`iss:${issuer.issuer}`, jwksUri ? () => jwksUri : () => this.#discoverJwksUri(issuer.issuer))
  }

  async #discoverJwksUri(issuer: string): Promise<string> {
    const doFetch = this.#options.fetch ?? globalThis.fetch
    const metadata = await discover(issuer, async (url) => {
      const res = await doFetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5_000),
      })
      return { status: res.status, body: await res.json().catch(() => undefined) }
    })
    const uri = endpoint(metadata, 'jwks_uri')
    const problem = keyUrlProblem(uri)
    if (problem !== undefined) throw new DiscoveryError(`the jwks_uri of ${issuer} ${problem}`)
    return uri
  }

  #set(id: string, uri: () => string | Promise<string>): KeySet {
    const hit = this.#sets.get(id)
    if (hit) {
      this.#sets.delete(id)
      this.#sets.set(id, hit)
      return hit
    }
    const set = createKeySet({
      jwksUri: async () => uri(),
      accept: 'any',
      cooldownMs: ASSERTION_JWKS_COOLDOWN_MS,
      maxAgeMs: MAX_AGE_MS,
      maxBytes: MAX_JWKS_BYTES,
      retryMs: ASSERTION_JWKS_COOLDOWN_MS,
      ...(this.#options.timeoutMs === undefined ? {} : { timeoutMs: this.#options.timeoutMs }),
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
      ...(this.#options.now ? { now: this.#options.now } : {}),
    })
    if (this.#sets.size >= MAX_SETS) this.#sets.delete(this.#sets.keys().next().value as string)
    this.#sets.set(id, set)
    return set
  }
}
