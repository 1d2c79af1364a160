// The bootstrap file's `trusted_issuers`: platforms whose tokens already identify workloads (a Kubernetes cluster's
// service-account issuer, a SPIFFE trust domain's JWT-SVID issuer, a CI system's OIDC issuer), checked at startup.
import { TollgateError } from '@tollgate/shared'
import { keyUrlProblem } from './key-urls.js'

/** A trusted issuer as written in the bootstrap file. */
export interface TrustedIssuerInput {
  issuer: string
  /** Where its keys are; without it, its OIDC discovery document (`/.well-known/openid-configuration`) says. */
  jwks_uri?: string
}

export interface TrustedIssuer {
  /** Exactly the `iss` of its tokens. */
  readonly issuer: string
  readonly jwksUri?: string
}

/** A `trusted_issuers` entry is unusable; the message names the entry and the field. */
export class TrustedIssuerError extends TollgateError {
  constructor(message: string) {
    super('ERR_TRUSTED_ISSUER_INVALID', message)
  }
}

const FIELDS = new Set(['issuer', 'jwks_uri'])

/**
 * Checks `trusted_issuers`: each `{ "issuer" }` or `{ "issuer", "jwks_uri" }`, https URLs (http only on loopback
 * hosts), each issuer once, unknown fields refused by name.
 *
 * @example
 * trustedIssuers([{ issuer: 'https://kubernetes.default.svc.cluster.local' }])
 */
export function trustedIssuers(input: unknown): TrustedIssuer[] {
  if (input === undefined) return []
  if (!Array.isArray(input)) throw new TrustedIssuerError('"trusted_issuers" must be an array')
  const seen = new Set<string>()
  return input.map((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new TrustedIssuerError(`trusted_issuers[${index}] must be an object { "issuer", "jwks_uri"? }`)
    }
    const { issuer, jwks_uri: jwksUri } = entry as Record<string, unknown>
    const problem = keyUrlProblem(issuer)
    if (problem !== undefined) throw new TrustedIssuerError(`trusted_issuers[${index}].issuer ${problem}`)
    const where = `trusted issuer ${issuer as string}`
    const unknown = Object.keys(entry).find((field) => !FIELDS.has(field))
    if (unknown !== undefined) throw new TrustedIssuerError(`${where}: unknown field "${unknown}"`)
    if ((issuer as string).includes('?')) throw new TrustedIssuerError(`${where}: an issuer has no query`)
    if (seen.has(issuer as string)) throw new TrustedIssuerError(`${where}: listed twice`)
    seen.add(issuer as string)
    if (jwksUri !== undefined) {
      const uriProblem = keyUrlProblem(jwksUri)
      if (uriProblem !== undefined) throw new TrustedIssuerError(`${where}: jwks_uri ${uriProblem}`)
    }
    return { issuer: issuer as string, ...(jwksUri === undefined ? {} : { jwksUri: jwksUri as string }) }
  })
}
