// DPoP proofs (RFC 9449 §4.3), checked the same way by the auth server and every verifier: one definition of a
// valid proof. Signatures are checked by the one JWS module (node:crypto), the proof key imported once per distinct key.
import { createHash, type KeyObject } from 'node:crypto'
import { InvalidDpopProofError, InvalidRequestError, UseDpopNonceError } from '../errors.js'
import {
  hasPrivateMembers,
  importPublicJwk,
  type JwsAlgorithm,
  jwkFits,
  jwkThumbprint,
  keyFits,
  verifySignatureInPool,
} from '../lib/jws.js'
import { hasUniqueMembers } from '../lib/unique-members.js'
import type { DpopNonces } from './nonce.js'
import type { ReplayGuard } from './replay.js'

export { jwkThumbprint }

/** The proof algorithms accepted: asymmetric only (RFC 9449 §4.3 step 5); EdDSA also by its RFC 9864 name. */
export const DPOP_ALGORITHMS = [
  'ES256',
  'ES384',
  'EdDSA',
  'Ed25519',
  'RS256',
  'PS256',
] as const satisfies readonly JwsAlgorithm[]
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number]

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const MAX_PROOF = 8_192

/** `ath`: base64url(SHA-256(access token)). */
export const accessTokenHash = (token: string): string => createHash('sha256').update(token).digest('base64url')

/**
 * The `htu` a proof must name for a request URL: scheme, host and path, without query or fragment, normalised as
 * the URL parser does (lower-case scheme and host, no default port).
 */
export function normalizeHtu(url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url
  return `${u.protocol}//${u.host}${u.pathname}`
}

export interface DpopCheckOptions {
  /** Accepted algorithms. Default {@link DPOP_ALGORITHMS}. */
  readonly algorithms?: readonly DpopAlgorithm[]
  /** How old a proof may be, seconds. Default 60. */
  readonly maxAgeSec?: number
  /** How far in the future its `iat` may be (clock skew), seconds. Default 5. */
  readonly skewSec?: number
  /** Where proof ids are remembered for the window: a proof is accepted once. */
  readonly replay: ReplayGuard
  /** Server nonces: when given, a proof without a current one is answered `use_dpop_nonce`. */
  readonly nonces?: DpopNonces
  readonly now?: () => number
}

export interface DpopRequest {
  /** The DPoP header(s) as received. */
  readonly proof: string | readonly string[] | undefined
  readonly method: string
  /** The request URL as the client addressed it (public base URL + path). */
  readonly url: string | URL
  /** The access token the proof must be bound to (`ath`), at resource servers. */
  readonly accessToken?: string
}

export interface VerifiedProof {
  /** The thumbprint of the proof's key: what `cnf.jkt` binds a token to. */
  readonly jkt: string
  readonly jti: string
}

function decode(segment: string): Record<string, unknown> {
  const text = Buffer.from(segment, 'base64url').toString('utf8')
  if (!hasUniqueMembers(text)) throw new InvalidDpopProofError('the DPoP proof has duplicate members')
  const value = JSON.parse(text) as unknown
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('not an object')
  return value as Record<string, unknown>
}

/**
 * A proof checker. Every check of RFC 9449 §4.3: exactly one well-formed `dpop+jwt`, an allowed asymmetric
 * algorithm, a public `jwk` (no private members) that verifies the signature, `htm` and `htu` of this request, `iat`
 * within the window, `ath` of the access token when there is one, a current server nonce when nonces are on, and a
 * `jti` never seen before within the window. Throws InvalidDpopProofError or UseDpopNonceError.
 *
 * @example
 * const checkProof = dpopProofCheck({ replay: memoryReplayGuard() })
 * const { jkt } = await checkProof({ proof: request.headers.dpop, method: 'POST', url: tokenEndpoint })
 */
export function dpopProofCheck(options: DpopCheckOptions): (request: DpopRequest) => Promise<VerifiedProof> {
  const allowed = new Set<string>(options.algorithms ?? DPOP_ALGORITHMS)
  const maxAgeSec = options.maxAgeSec ?? 60
  const skewSec = options.skewSec ?? 5
  const now = options.now ?? Date.now
  const { replay, nonces } = options
  // Clients sign every proof with the same key and header: import each distinct header's key once.
  const keys = new Map<string, { key: KeyObject; jkt: string; alg: DpopAlgorithm }>()

  const keyOf = (segment: string, header: Record<string, unknown>) => {
    const hit = keys.get(segment)
    if (hit) return hit
    const alg = header.alg
    if (typeof alg !== 'string' || !allowed.has(alg)) {
      throw new InvalidDpopProofError('the DPoP proof algorithm is not allowed')
    }
    const jwk = header.jwk as Record<string, unknown> | undefined
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
      throw new InvalidDpopProofError('the DPoP proof has no jwk')
    }
    if (hasPrivateMembers(jwk)) throw new InvalidDpopProofError('the DPoP proof jwk holds a private key')
    if (!jwkFits(alg as DpopAlgorithm, jwk)) {
      throw new InvalidDpopProofError('the DPoP proof jwk does not fit its algorithm')
    }
    const key = importPublicJwk(jwk)
    if (key === undefined) throw new InvalidDpopProofError('the DPoP proof jwk is not a usable public key')
    if (!keyFits(alg as DpopAlgorithm, key)) throw new InvalidDpopProofError('the DPoP proof key is too short')
    const entry = { key, jkt: jwkThumbprint(jwk), alg: alg as DpopAlgorithm }
    if (keys.size >= 10_000) keys.delete(keys.keys().next().value as string)
    keys.set(segment, entry)
    return entry
  }

  return async (request) => {
    // The request's own URL: one that cannot be parsed (a hostile Host) is a request nobody can make a proof for.
    let requested: string
    try {
      requested = normalizeHtu(request.url)
    } catch {
      throw new InvalidRequestError('the request URL is not a valid URL')
    }
    const { proof } = request
    if (proof === undefined || proof === '') throw new InvalidDpopProofError('no DPoP proof')
    if (typeof proof !== 'string') throw new InvalidDpopProofError('exactly one DPoP header is allowed')
    if (proof.length > MAX_PROOF || !JWS.test(proof)) throw new InvalidDpopProofError('the DPoP proof is malformed')
    const [h, p, s] = proof.split('.') as [string, string, string]
    let header: Record<string, unknown>
    let claims: Record<string, unknown>
    try {
      header = decode(h)
      claims = decode(p)
    } catch (err) {
      if (err instanceof InvalidDpopProofError) throw err
      throw new InvalidDpopProofError('the DPoP proof is malformed')
    }
    if (header.typ !== 'dpop+jwt') throw new InvalidDpopProofError('the DPoP proof typ must be dpop+jwt')
    if (header.crit !== undefined) throw new InvalidDpopProofError('the DPoP proof has unsupported crit parameters')
    const { key, jkt, alg } = keyOf(h, header)
    if (header.alg !== alg) throw new InvalidDpopProofError('the DPoP proof algorithm is not allowed')
    const signed = Buffer.from(`${h}.${p}`)
    const signature = Buffer.from(s, 'base64url')
    // A proof is signed afresh for every request, so this is the one signature a verifier cannot cache: it runs on
    // libuv's thread pool, beside the event loop.
    if (!(await verifySignatureInPool(alg, key, signed, signature)))
      throw new InvalidDpopProofError('the DPoP proof signature is invalid')

    const { jti, htm, htu, iat, ath } = claims
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
      throw new InvalidDpopProofError('the DPoP proof has no usable jti')
    }
    if (htm !== request.method) throw new InvalidDpopProofError('the DPoP proof is for another method (htm)')
    let named: string
    try {
      named = normalizeHtu(String(htu))
    } catch {
      throw new InvalidDpopProofError('the DPoP proof htu is not a URL')
    }
    if (typeof htu !== 'string' || named !== requested) {
      throw new InvalidDpopProofError('the DPoP proof is for another URL (htu)')
    }
    const nowSec = now() / 1000
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new InvalidDpopProofError('the DPoP proof has no iat')
    if (iat > nowSec + skewSec) throw new InvalidDpopProofError('the DPoP proof is issued in the future')
    if (iat < nowSec - maxAgeSec) throw new InvalidDpopProofError('the DPoP proof is too old')
    if (request.accessToken !== undefined && ath !== accessTokenHash(request.accessToken)) {
      throw new InvalidDpopProofError('the DPoP proof is not bound to this access token (ath)')
    }
    if (nonces && !(typeof claims.nonce === 'string' && nonces.valid(claims.nonce))) {
      throw new UseDpopNonceError(nonces.current(), 'a current DPoP nonce is required')
    }
    const ttlMs = (maxAgeSec + skewSec) * 1000 + 1_000
    if (!(await replay.claim(`${jkt}:${jti}`, ttlMs))) {
      throw new InvalidDpopProofError('the DPoP proof was already used')
    }
    return { jkt, jti }
  }
}
