// DPoP at the auth server (RFC 9449): the shared proof check with the store as the replay guard (so a proof is
// accepted once across every instance) and stateless nonces keyed from the server's secret.
import { createHmac } from 'node:crypto'
import {
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  type DpopNonces,
  dpopNonces,
  dpopProofCheck,
  InvalidDpopProofError,
  UseDpopNonceError,
  type VerifiedProof,
} from '@tollgate/shared'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { OAuthError } from '../errors.js'
import type { Store } from '../store/types.js'

export interface DpopProofsOptions {
  readonly store: Pick<Store, 'claimProofId'>
  /** The issuer without a trailing slash: proofs name public URLs. */
  readonly baseUrl: string
  /** DPOP_NONCE=required: proofs must carry a current server nonce. */
  readonly requireNonce: boolean
  /** The server's secret (the client-secret key): every instance derives the same nonces from it. */
  readonly secretKey: Buffer
  readonly now: () => number
  /** The proof algorithms accepted. Default: every one of DPOP_ALGORITHMS (PROFILE=fapi2 narrows them). */
  readonly algorithms?: readonly DpopAlgorithm[]
}

/** Proof errors as the token endpoint answers them: 400, and the nonce to use next. */
export function dpopError(err: InvalidDpopProofError | UseDpopNonceError): OAuthError {
  if (err instanceof UseDpopNonceError) {
    return new OAuthError('use_dpop_nonce', 400, err.message, { headers: { 'dpop-nonce': err.nonce } })
  }
  return new OAuthError('invalid_dpop_proof', 400, err.message)
}

/**
 * @example
 * const proof = await ctx.dpop.check(request, '/oauth/token') // undefined without a DPoP header
 */
export class DpopProofs {
  readonly algorithms: readonly DpopAlgorithm[]
  readonly nonces: DpopNonces | undefined
  readonly #check: ReturnType<typeof dpopProofCheck>
  readonly #baseUrl: string

  constructor(options: DpopProofsOptions) {
    this.#baseUrl = options.baseUrl
    this.algorithms = options.algorithms ?? DPOP_ALGORITHMS
    this.nonces = options.requireNonce
      ? dpopNonces({
          key: createHmac('sha256', options.secretKey).update('tollgate dpop nonces v1').digest(),
          now: options.now,
        })
      : undefined
    this.#check = dpopProofCheck({
      algorithms: this.algorithms,
      replay: { claim: (id, ttlMs) => options.store.claimProofId(id, ttlMs) },
      now: options.now,
      ...(this.nonces ? { nonces: this.nonces } : {}),
    })
  }

  /** The public URL of a path of this server. */
  url(path: string): string {
    return `${this.#baseUrl}${path}`
  }

  /**
   * The request's proof for `path` (POST unless the request says otherwise), or undefined when it sent none.
   * Throws the shared InvalidDpopProofError / UseDpopNonceError; the caller answers them in its own way.
   */
  async verify(request: FastifyRequest, path: string, accessToken?: string): Promise<VerifiedProof | undefined> {
    const header = request.headers.dpop
    if (header === undefined) return undefined
    return this.#check({
      proof: header,
      method: request.method,
      url: this.url(path),
      ...(accessToken === undefined ? {} : { accessToken }),
    })
  }

  /** As {@link verify}, with the errors as the token endpoint's (400) OAuth errors. */
  async check(request: FastifyRequest, path: string): Promise<VerifiedProof | undefined> {
    try {
      return await this.verify(request, path)
    } catch (err) {
      if (err instanceof InvalidDpopProofError || err instanceof UseDpopNonceError) throw dpopError(err)
      throw err
    }
  }

  /** With nonces on, every answer carries the nonce to use next (RFC 9449 §8.2). */
  offerNonce(reply: FastifyReply): void {
    if (this.nonces) reply.header('dpop-nonce', this.nonces.current())
  }
}
