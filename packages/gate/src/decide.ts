// One decision of the gate: who asks (a trusted proxy), which request it describes, what the policy requires of it,
// and what the verifier core of @tollgate/shared says of its token — answered 200 with the caller's identity, 401
// with the challenge that applies, or 403 for a missing scope. Nothing else: a proxy turns any other status into 500.
import type { IncomingHttpHeaders } from 'node:http'
import {
  type AccessTokenClaims,
  actorsOf,
  bearerToken,
  challenges,
  InsufficientScopeError,
  InvalidTokenError,
  MissingTokenError,
  parseScope,
  TollgateTokenError,
  UseDpopNonceError,
} from '@tollgate/shared'
import { badRequest, GateRefusal, unavailable } from './errors.js'
import { extAuthzRequestOf, type OriginalRequest, verifyRequestOf } from './original.js'
import { type Policy, PolicyError, type Requirement, requirementFor, requirementOfQuery } from './policy.js'
import type { TrustedPeer } from './trust.js'
import type { VerifierSet } from './verifiers.js'

/** What the upstream learns about the caller: every field always present, empty when it does not apply. */
export interface Identity {
  /** `sub` → X-Auth-Subject */
  readonly subject: string
  /** `client_id` → X-Auth-Client-Id */
  readonly clientId: string
  /** `scope` → X-Auth-Scope */
  readonly scope: string
  /** `sid` → X-Auth-Session */
  readonly session: string
  /** the `act` chain, outermost first → X-Auth-Actor */
  readonly actor: string
}

export const NO_IDENTITY: Identity = Object.freeze({ subject: '', clientId: '', scope: '', session: '', actor: '' })

export interface Allowed {
  readonly status: 200
  readonly identity: Identity
  readonly reason: 'token' | 'public'
  readonly nonce: string | undefined
}

export interface Refused {
  readonly status: 401 | 403
  readonly error: TollgateTokenError
  /** `WWW-Authenticate` values, the one that applies first (nginx passes on only the first). */
  readonly challenges: readonly string[]
  /** A metrics label: the error's code, or the gate's own reason. */
  readonly reason: string
  readonly nonce: string | undefined
}

export type Decision = Allowed | Refused

/** The proxy's request to the gate. */
export interface GateRequest {
  /** The peer's address (the proxy's, if it is one). */
  readonly peer: string | undefined
  readonly method: string
  /** The gate's own request URL, with its query. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
}

export interface DeciderOptions {
  readonly policy: Policy
  readonly verifiers: VerifierSet
  readonly trusted: TrustedPeer
  /** The `resource_metadata` URL for challenges (RFC 9728), when the gate serves one audience. */
  readonly resourceMetadata?: string
  /** Whether the shared DPoP replay store is unreachable (a refused proof then says so). */
  readonly replayStoreDown?: () => boolean
  /** Called with an error the gate did not expect (it still answers 401). */
  readonly onUnexpected?: (err: unknown) => void
}

export const EXT_AUTHZ_PREFIX = '/ext-authz'

/** Visible ASCII and space: what a header value may carry unchanged. */
const HEADER_SAFE = /^[\x20-\x7e]*$/
const isDpopScheme = (header: string | undefined) =>
  header !== undefined && header.length > 5 && (header.charCodeAt(0) | 32) === 100 && /^dpop /i.test(header)

const PATH_PROBLEMS = {
  'dot-segment': 'the original path has "." or ".." segments',
  malformed: 'the original path has a malformed percent-escape',
  ambiguous:
    'the original path reads differently decoded (an encoded "/", ";parameters" or letter case) and the policy treats the readings differently',
} as const

/** The identity headers of verified claims; a value a header cannot carry refuses the token rather than mangle it. */
function identityOf(claims: AccessTokenClaims): Identity {
  const actors = claims.act === undefined ? [] : actorsOf(claims.act)
  const identity: Identity = {
    subject: claims.sub,
    clientId: claims.client_id,
    scope: claims.scope,
    session: typeof claims.sid === 'string' ? claims.sid : '',
    actor: actors.join(', '),
  }
  for (const [name, value] of Object.entries(identity)) {
    if (!HEADER_SAFE.test(value)) {
      throw new GateRefusal('identity', 'invalid_token', `the token's ${name} cannot be passed on in a header`)
    }
  }
  if (actors.some((a) => a.includes(','))) {
    throw new GateRefusal('identity', 'invalid_token', "an actor's sub holds a comma: the chain would be ambiguous")
  }
  return Object.freeze(identity)
}

/**
 * The decision function. Synchronous for a bearer token the verifier already holds (the common case: no promise per
 * request), a promise otherwise.
 *
 * @example
 * const decide = decider({ policy, verifiers, trusted })
 * const decision = await decide('verify', { peer, method, url, headers })
 */
export function decider(
  options: DeciderOptions,
): (kind: 'verify' | 'ext-authz', request: GateRequest) => Decision | Promise<Decision> {
  const { policy, verifiers, trusted, replayStoreDown, onUnexpected } = options
  const challengeOptions = options.resourceMetadata ? { resourceMetadata: options.resourceMetadata } : undefined
  const algorithms = verifiers.dpopAlgorithms
  const nonces = verifiers.dpopNonces
  // Verified claims are shared (frozen) objects while the verifier answers from its cache: so are their identities.
  const identities = new WeakMap<AccessTokenClaims, Identity>()
  const scopeSets = new WeakMap<AccessTokenClaims, Set<string>>()
  // A proxy sends the same few auth URLs again and again: their parameters are parsed once.
  const queries = new Map<string, Requirement | PolicyError | undefined>()

  const refuse = (err: unknown, requirement: Requirement | undefined, dpop: boolean): Refused => {
    let error: TollgateTokenError
    if (err instanceof GateRefusal) error = err
    else if (err instanceof TollgateTokenError) {
      if (err.code === 'ERR_DPOP_PROOF' && replayStoreDown?.() && /already used/.test(err.message)) {
        error = unavailable('the DPoP replay store (REDIS_URL) is unreachable', 'ERR_DPOP_PROOF')
      } else if (err.status === 503) {
        // No keys yet, or the revocation feed too far behind: the gate cannot decide, so it fails closed.
        error = unavailable(err.message, err.code)
      } else if (err.status === 401 || err.status === 403) {
        error = err
      } else {
        error = new TollgateTokenError(err.code, 401, err.error, err.message)
      }
    } else {
      onUnexpected?.(err)
      error = new GateRefusal('internal', 'temporarily_unavailable', 'the gate could not decide (internal error)')
    }
    const realm = requirement?.audience ?? policy.fallback.audience
    const scheme = dpop || requirement?.dpop ? 'DPoP' : 'Bearer'
    // The metadata describes the default audience: an auth URL that names another gets challenges without it.
    const metadata = realm === policy.fallback.audience ? challengeOptions : undefined
    return {
      status: error.status === 403 ? 403 : 401,
      error,
      challenges: challenges(error, realm, algorithms, scheme, metadata),
      reason: error instanceof GateRefusal ? error.reason : error.code,
      nonce:
        error instanceof UseDpopNonceError ? error.nonce : scheme === 'DPoP' && nonces ? nonces.current() : undefined,
    }
  }

  const admit = (claims: AccessTokenClaims, requirement: Requirement, dpop: boolean): Decision => {
    let identity = identities.get(claims)
    if (identity === undefined) {
      try {
        identity = identityOf(claims)
      } catch (err) {
        return refuse(err, requirement, dpop)
      }
      identities.set(claims, identity)
    }
    if (requirement.scopes.length > 0) {
      let granted = scopeSets.get(claims)
      if (granted === undefined) {
        granted = parseScope(claims.scope)
        scopeSets.set(claims, granted)
      }
      for (const scope of requirement.scopes) {
        if (!granted.has(scope)) return refuse(new InsufficientScopeError(requirement.scopes), requirement, dpop)
      }
    }
    return { status: 200, identity, reason: 'token', nonce: dpop && nonces ? nonces.current() : undefined }
  }

  const queryRequirement = (query: string): Requirement | undefined => {
    let hit = queries.get(query)
    if (hit === undefined && !queries.has(query)) {
      try {
        hit = requirementOfQuery(query, policy.fallback.audience)
      } catch (err) {
        if (!(err instanceof PolicyError)) throw err
        hit = err
      }
      if (queries.size >= 256) queries.clear()
      queries.set(query, hit)
    }
    if (hit instanceof PolicyError) throw badRequest('policy_parameters', hit.message)
    return hit
  }

  const requirementOf = (kind: 'verify' | 'ext-authz', url: string, original: OriginalRequest): Requirement => {
    if (kind === 'verify') {
      const q = url.indexOf('?')
      const fromQuery = q === -1 ? undefined : queryRequirement(url.slice(q + 1))
      if (fromQuery !== undefined) return fromQuery
    }
    const found = requirementFor(policy, original)
    if (typeof found === 'string') throw badRequest('path', PATH_PROBLEMS[found])
    return found
  }

  return (kind, request) => {
    const { headers } = request
    const authorization = headers.authorization
    const dpop = isDpopScheme(authorization)
    let requirement: Requirement | undefined
    try {
      if (!trusted(request.peer)) {
        throw badRequest(
          'untrusted_peer',
          `the gate answers its proxies only, and ${request.peer} is not in TRUST_PROXY`,
        )
      }
      const original =
        kind === 'verify'
          ? verifyRequestOf(headers)
          : extAuthzRequestOf(EXT_AUTHZ_PREFIX, request.method, request.url, headers)
      requirement = requirementOf(kind, request.url, original)
      if (requirement.public) return { status: 200, identity: NO_IDENTITY, reason: 'public', nonce: undefined }
      const need = requirement
      const verifier = verifiers.for(need.audience)
      if (dpop) {
        return verifier
          .verifyRequest({ authorization, dpop: headers.dpop, method: original.method, url: original.url })
          .then(
            (claims) => admit(claims, need, true),
            (err: unknown) => refuse(err, need, true),
          )
      }
      if (need.dpop) {
        if (authorization === undefined || authorization === '') throw new MissingTokenError()
        bearerToken(authorization)
        throw new InvalidTokenError(
          'ERR_DPOP_REQUIRED',
          'this resource takes DPoP-bound tokens only, sent as DPoP with a proof',
        )
      }
      const token = bearerToken(authorization)
      const claims = verifier.cached(token)
      if (claims !== undefined) return admit(claims, need, false)
      return verifier.verify(token).then(
        (verified) => admit(verified, need, false),
        (err: unknown) => refuse(err, need, false),
      )
    } catch (err) {
      return refuse(err, requirement, dpop)
    }
  }
}
