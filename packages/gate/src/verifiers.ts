// One verifier of @tollgate/shared per audience the gate serves, all sharing one JWKS key set, one DPoP replay guard,
// one set of nonces and the process's one revocation-event follower: the gate adds no checks of its own.
import {
  createVerifier,
  type DpopNonces,
  type KeySet,
  type Verifier,
  type VerifierOptions,
  type VerifierRevocation,
} from '@tollgate/shared'
import { GateRefusal } from './errors.js'

/** Distinct audiences named by auth-URL parameters are created on first use, up to this many. */
export const MAX_AUDIENCES = 64

export interface VerifierSetOptions {
  /** Options for every verifier except `audience` (and `keys`, which they share). */
  readonly verifier: Omit<VerifierOptions, 'audience' | 'keys'>
  /** The audience whose verifier is made first (and owns the shared key set). */
  readonly audience: string
}

/**
 * @example
 * const verifiers = new VerifierSet({ audience: config.audience, verifier: { issuer, dpop: { replay } } })
 * const claims = await verifiers.for('https://orders.example').verifyRequest(request)
 */
export class VerifierSet {
  readonly #options: Omit<VerifierOptions, 'audience' | 'keys'>
  readonly #byAudience = new Map<string, Verifier>()
  readonly #first: Verifier

  constructor(options: VerifierSetOptions) {
    this.#options = options.verifier
    this.#first = createVerifier({ ...options.verifier, audience: options.audience })
    this.#byAudience.set(options.audience, this.#first)
  }

  /** The verifier for an audience, made on first use; refuses (401) past {@link MAX_AUDIENCES}. */
  for(audience: string): Verifier {
    let verifier = this.#byAudience.get(audience)
    if (verifier === undefined) {
      if (this.#byAudience.size >= MAX_AUDIENCES) {
        throw new GateRefusal(
          'audience_limit',
          'invalid_request',
          `the gate serves at most ${MAX_AUDIENCES} audiences; the auth URL names another`,
        )
      }
      verifier = createVerifier({ ...this.#options, audience, keys: this.#first.keys })
      this.#byAudience.set(audience, verifier)
    }
    return verifier
  }

  get keys(): KeySet {
    return this.#first.keys
  }

  get revocation(): VerifierRevocation | undefined {
    return this.#first.revocation
  }

  get dpopAlgorithms(): readonly string[] {
    return this.#first.dpopAlgorithms
  }

  get dpopNonces(): DpopNonces | undefined {
    return this.#first.dpopNonces
  }
}
