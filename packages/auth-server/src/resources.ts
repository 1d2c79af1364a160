// The bootstrap file's `resources`: what each protected resource (an audience) asks of the tokens addressed to it —
// today the algorithm its access tokens are signed with.
import { isSigningAlgorithm, SIGNING_ALGORITHMS, type SigningAlgorithm, TollgateError } from '@tollgate/shared'

/** A resource as written in the bootstrap file. */
export interface ResourceInput {
  audience: string
  /** The `alg` of access tokens for this audience; one of SIGNING_ALGS. Default: ACCESS_TOKEN_SIGNING_ALG. */
  access_token_signing_alg?: string
}

export interface Resource {
  readonly audience: string
  readonly accessTokenSigningAlg: SigningAlgorithm
}

/** A `resources` entry is unusable; the message names the entry and the field. */
export class ResourceValidationError extends TollgateError {
  constructor(message: string) {
    super('ERR_RESOURCE_INVALID', message)
  }
}

const FIELDS = new Set(['audience', 'access_token_signing_alg'])

/**
 * Checks the `resources` of a bootstrap document: each an object with an absolute-URI `audience` (once) and an
 * `access_token_signing_alg` among `signingAlgs`; unknown fields are refused by name.
 *
 * @example
 * resources([{ audience: 'https://inventory.internal', access_token_signing_alg: 'ES256' }], ['RS256', 'ES256'], 'RS256')
 */
export function resources(
  input: unknown,
  signingAlgs: readonly SigningAlgorithm[],
  fallback: SigningAlgorithm,
): Resource[] {
  if (input === undefined) return []
  if (!Array.isArray(input)) throw new ResourceValidationError('"resources" must be an array')
  const seen = new Set<string>()
  return input.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ResourceValidationError(`resources[${index}] must be an object`)
    }
    const { audience, access_token_signing_alg: alg } = entry as Record<string, unknown>
    if (typeof audience !== 'string' || !URL.canParse(audience)) {
      throw new ResourceValidationError(`resources[${index}]: audience must be an absolute URI`)
    }
    const where = `resource ${audience}`
    const unknown = Object.keys(entry).find((field) => !FIELDS.has(field))
    if (unknown !== undefined) throw new ResourceValidationError(`${where}: unknown field "${unknown}"`)
    if (seen.has(audience)) throw new ResourceValidationError(`${where}: listed twice`)
    seen.add(audience)
    if (alg !== undefined && !isSigningAlgorithm(alg)) {
      throw new ResourceValidationError(
        `${where}: access_token_signing_alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`,
      )
    }
    if (alg !== undefined && !signingAlgs.includes(alg)) {
      throw new ResourceValidationError(
        `${where}: access_token_signing_alg ${alg} is not in SIGNING_ALGS (${signingAlgs.join(',')})`,
      )
    }
    return { audience, accessTokenSigningAlg: alg ?? fallback }
  })
}

/**
 * The algorithm of an access token for these audiences: its first audience's (a token addressed to several is signed
 * as its primary audience asks), else `fallback` (ACCESS_TOKEN_SIGNING_ALG).
 *
 * @example
 * const algorithmFor = accessTokenAlgorithms(resources, 'RS256')
 * algorithmFor(['https://inventory.internal']) // 'ES256'
 */
export function accessTokenAlgorithms(
  list: readonly Resource[],
  fallback: SigningAlgorithm,
): (audience: readonly string[]) => SigningAlgorithm {
  const byAudience = new Map(list.map((r) => [r.audience, r.accessTokenSigningAlg]))
  if (byAudience.size === 0) return () => fallback
  return (audience) => byAudience.get(audience[0] as string) ?? fallback
}
