// The gate's own refusals: when the request cannot be judged at all. Always 401 (a proxy turns anything but 200, 401
// and 403 into a 500), with a description that names the cause.
import { type TokenErrorCode, TollgateTokenError } from '@tollgate/shared'

/** Why the gate refused before (or instead of) looking at a token; a metrics label. */
export type GateReason =
  | 'untrusted_peer'
  | 'original_request'
  | 'header_families'
  | 'path'
  | 'policy_parameters'
  | 'audience_limit'
  | 'identity'
  | 'unavailable'
  | 'internal'

/**
 * A refusal of the gate's own, as a token error so it is answered like any other: 401 with an RFC 6750 challenge
 * (`error`, `error_description`) and the same JSON body.
 *
 * @example
 * throw new GateRefusal('untrusted_peer', 'invalid_request', 'the gate answers its proxies only (TRUST_PROXY)')
 */
export class GateRefusal extends TollgateTokenError {
  constructor(
    readonly reason: GateReason,
    error: string,
    message: string,
    code: TokenErrorCode = 'ERR_INVALID_REQUEST',
  ) {
    super(code, 401, error, message)
  }
}

/** The request the proxy describes is not one the gate can judge (missing, malformed or contradictory headers). */
export const badRequest = (reason: GateReason, message: string) => new GateRefusal(reason, 'invalid_request', message)

/** The gate cannot decide now (no keys, revocation feed too far behind, replay store down): it fails closed. */
export const unavailable = (message: string, code: TokenErrorCode = 'ERR_JWKS_UNAVAILABLE') =>
  new GateRefusal('unavailable', 'temporarily_unavailable', message, code)
