// Client assertions (RFC 7521, RFC 7523 §2.2 and §3, OIDC Core §9 private_key_jwt; SPEC "Clients without shared
// secrets"): a JWT signed by the client's own key, or a platform's token for a workload (a Kubernetes service
// account, a SPIFFE JWT-SVID, a CI job), checked through the one signature module of @tollgate/shared.
import {
  decodeJws,
  entryFits,
  isJwsAlgorithm,
  type JwsAlgorithm,
  JwsFormatError,
  type KeySetEntry,
  TollgateTokenError,
  verifySignatureInPool,
} from '@tollgate/shared'
import { echo } from '@tollgate/shared/service'
import type { JWSHeaderParameters } from 'jose'
import type { Config } from '../config.js'
import { InvalidClient } from '../errors.js'
import { FAPI2_ALGORITHMS, isFapi2 } from '../profile/fapi2.js'
import type { ClientRecord, Store } from '../store/types.js'
import type { AssertionKeys, CandidateKeys } from './assertion-keys.js'
import type { ClientCache } from './cache.js'
import type { FederatedClients } from './federation.js'

/** RFC 7523 §2.2: a JWT as client credentials. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
/** draft-ietf-oauth-spiffe-client-auth: a SPIFFE JWT-SVID as client credentials. */
export const JWT_SPIFFE = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'
export const ASSERTION_TYPES: readonly string[] = [JWT_BEARER, JWT_SPIFFE]

/** The algorithms an assertion may be signed with (SPEC); `Ed25519` is RFC 9864's name for EdDSA with Ed25519. */
export const ASSERTION_ALGORITHMS: readonly JwsAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']

/** What an assertion must satisfy besides its signature; the FAPI 2.0 profile narrows it (issuer only, no RS256). */
export interface AssertionPolicy {
  /**
   * The `aud` a `private_key_jwt` assertion may name (one suffices): the issuer identifier and the token endpoint
   * URL; FAPI 2.0 accepts the issuer only.
   */
  readonly audiences: readonly string[]
  /** The `aud` a platform token must include: this server's issuer identifier. */
  readonly federatedAudience: string
  readonly algorithms: readonly JwsAlgorithm[]
  /** How far ahead a `private_key_jwt` assertion's `exp` may be, seconds. Default 300. */
  readonly maxLifetimeSec?: number
  /** Leeway for `exp`, `nbf` and `iat`, seconds. Default 5. */
  readonly clockToleranceSec?: number
}

/**
 * The server's policy: `aud` the issuer identifier or the token endpoint URL (RFC 7523 §3, OIDC Core §9; RFC 9126 §2
 * adds the pushed authorization request endpoint), platform tokens addressed to the issuer, the SPEC's algorithms,
 * `exp` at most five minutes ahead.
 */
export function assertionPolicy(config: Pick<Config, 'issuer' | 'baseUrl' | 'profile'>): AssertionPolicy {
  if (isFapi2(config)) {
    // FAPI 2.0 §5.3.2.1: the issuer identifier as the only audience; §5.4: no RS256.
    return {
      audiences: [config.issuer],
      federatedAudience: config.issuer,
      algorithms: ASSERTION_ALGORITHMS.filter((a) => (FAPI2_ALGORITHMS as readonly string[]).includes(a)),
      maxLifetimeSec: 300,
    }
  }
  return {
    audiences: [config.issuer, `${config.baseUrl}/oauth/token`, `${config.baseUrl}/oauth/par`],
    federatedAudience: config.issuer,
    algorithms: ASSERTION_ALGORITHMS,
    maxLifetimeSec: 300,
  }
}

export interface AssertionDeps {
  readonly clients: Pick<ClientCache, 'get'>
  readonly keys: AssertionKeys
  readonly federation: FederatedClients
  readonly store: Pick<Store, 'claimAssertionId'>
  readonly now: () => number
  readonly policy: AssertionPolicy
}

export interface AssertionRequest {
  readonly assertion: string
  readonly type: string
  /** The form's `client_id`, when it was sent: it must be the client the assertion authenticates. */
  readonly clientId: string | undefined
}

export interface VerifiedAssertion {
  readonly client: ClientRecord
  /** `private_key_jwt`: signed by the client's own key; `federated`: a token its platform issued for it. */
  readonly method: 'private_key_jwt' | 'federated'
}

/** An assertion refused: 401 invalid_client naming what was wrong; the detail is logged, never the assertion. */
const refuse = (description: string, detail = description): never => {
  throw new InvalidClient(description, { detail })
}

const CLIENT_ID = /^[A-Za-z0-9._~:-]{1,128}$/
const MAX_JTI = 256

/** An unsigned JWT (`alg: none`, an empty signature) is not a compact JWS: say what it is. */
function malformed(assertion: string, err: JwsFormatError): never {
  if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.$/.test(assertion)) {
    refuse('the client assertion is unsigned (alg none is not allowed)')
  }
  return refuse(`the client assertion is malformed: ${err.message}`)
}

const audiencesOf = (aud: unknown): string[] | undefined =>
  typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? aud : undefined

/**
 * Checks a client assertion and returns the client it authenticates. A `jwt-bearer` assertion whose `iss` is a
 * trusted issuer is a platform token (workload identity federation); otherwise it is `private_key_jwt`, `iss` and
 * `sub` the client's id. Every refusal is an {@link InvalidClient} whose description names the cause.
 *
 * @example
 * const { client } = await verifyClientAssertion(deps, { assertion, type: JWT_BEARER, clientId: undefined })
 */
export async function verifyClientAssertion(
  deps: AssertionDeps,
  request: AssertionRequest,
): Promise<VerifiedAssertion> {
  const { assertion, type } = request
  let decoded: ReturnType<typeof decodeJws>
  try {
    decoded = decodeJws(assertion, 16 * 1024)
  } catch (err) {
    if (err instanceof JwsFormatError) malformed(assertion, err)
    throw err
  }
  const { header, payload } = decoded
  const alg = header.alg as string
  if (!isJwsAlgorithm(alg) || !deps.policy.algorithms.includes(alg)) {
    refuse(
      `the client assertion's algorithm ${echo(alg, 16)} is not allowed (one of ${deps.policy.algorithms.join(', ')})`,
    )
  }
  const iss = payload.iss
  if (typeof iss !== 'string' || iss === '') refuse('the client assertion has no iss')
  const trusted = deps.keys.trusted(iss as string)
  const platform = trusted !== undefined || type === JWT_SPIFFE || !CLIENT_ID.test(iss as string)
  try {
    if (!platform) return await privateKeyJwt(deps, request, decoded, alg as JwsAlgorithm)
    if (!trusted) refuse(`the client assertion's issuer ${echo(iss as string, 100)} is not a trusted issuer`)
    return await federated(deps, request, decoded, alg as JwsAlgorithm)
  } catch (err) {
    // The operator's log line: the cause and whose assertion it was (never the assertion).
    if (!(err instanceof InvalidClient)) throw err
    const who = platform
      ? `platform token of ${echo(iss as string, 100)} for ${echo(String(payload.sub), 100)}`
      : `private_key_jwt of client ${echo(iss as string, 128)}`
    throw new InvalidClient(err.message, { detail: `${who}: ${err.detail ?? err.message}` })
  }
}

/** OIDC Core §9 / RFC 7523 §3: signed by one of the client's keys, for us, short-lived, used once. */
async function privateKeyJwt(
  deps: AssertionDeps,
  request: AssertionRequest,
  decoded: ReturnType<typeof decodeJws>,
  alg: JwsAlgorithm,
): Promise<VerifiedAssertion> {
  const { payload } = decoded
  const clientId = payload.iss as string
  if (request.clientId !== undefined && request.clientId !== clientId) {
    refuse('client_id does not match the client assertion (its iss)')
  }
  const client = await deps.clients.get(clientId)
  if (!client || client.public) refuse('client authentication failed', `private_key_jwt for unknown client ${clientId}`)
  const known = client as ClientRecord
  const keys = deps.keys.forClient(known)
  if (!keys) refuse(`client ${clientId} has no registered keys (jwks or jwks_uri)`)
  allowed(known)
  await checkSignature(decoded, alg, keys as CandidateKeys, `the keys of client ${clientId}`)

  const now = deps.now() / 1000
  const tolerance = deps.policy.clockToleranceSec ?? 5
  if (payload.sub !== clientId) refuse('iss and sub of the client assertion must both be the client_id')
  const aud = audiencesOf(payload.aud)
  if (!aud?.some((a) => deps.policy.audiences.includes(a))) {
    refuse(`the client assertion is for another audience (aud must be ${deps.policy.audiences.join(' or ')})`)
  }
  const exp = checkTimes(payload, now, tolerance)
  const maxLifetime = deps.policy.maxLifetimeSec ?? 300
  if (exp > now + maxLifetime + tolerance) {
    refuse(`the client assertion's exp is too far in the future (at most ${maxLifetime} s ahead)`)
  }
  const { jti } = payload
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI) refuse('the client assertion has no usable jti')
  // RFC 7523 §3 item 7: a jti once, until the assertion expires, on every instance.
  const ttlMs = Math.ceil((exp - now + tolerance) * 1000)
  if (!(await deps.store.claimAssertionId(`${clientId}\n${jti as string}`, ttlMs))) {
    refuse('the client assertion was already used (its jti was seen before)')
  }
  return { client: known, method: 'private_key_jwt' }
}

/** A platform token: signed by a trusted issuer, for us, unexpired; reused by its platform, so not single-use. */
async function federated(
  deps: AssertionDeps,
  request: AssertionRequest,
  decoded: ReturnType<typeof decodeJws>,
  alg: JwsAlgorithm,
): Promise<VerifiedAssertion> {
  const { payload } = decoded
  const issuer = payload.iss as string
  const trusted = deps.keys.trusted(issuer)
  if (!trusted) return refuse(`the client assertion's issuer ${echo(issuer, 100)} is not a trusted issuer`)
  await checkSignature(decoded, alg, deps.keys.forIssuer(trusted), `the keys of issuer ${issuer}`)

  const now = deps.now() / 1000
  const aud = audiencesOf(payload.aud)
  if (!aud?.includes(deps.policy.federatedAudience)) {
    refuse(`the platform token is for another audience (aud must include ${deps.policy.federatedAudience})`)
  }
  checkTimes(payload, now, deps.policy.clockToleranceSec ?? 5)
  const subject = payload.sub
  if (typeof subject !== 'string' || subject === '') refuse('the platform token has no sub')
  const sub = subject as string
  const maps = (client: ClientRecord | undefined) =>
    client?.federatedIdentities?.some((f) => f.issuer === issuer && f.subject === sub) === true
  let client: ClientRecord | undefined
  if (request.clientId !== undefined) {
    client = await deps.clients.get(request.clientId)
    if (!maps(client)) {
      refuse(`client_id does not match the platform identity (${echo(sub, 100)} of ${issuer} is not that client)`)
    }
  } else {
    const ids = await deps.federation.find(issuer, sub)
    if (ids.length > 1) refuse('several clients are this platform identity: send client_id to say which')
    client = ids[0] === undefined ? undefined : await deps.clients.get(ids[0])
    if (!maps(client)) refuse(`no client is the platform identity ${echo(sub, 100)} of ${issuer}`)
  }
  allowed(client as ClientRecord)
  return { client: client as ClientRecord, method: 'federated' }
}

/** A client that registered a `token_endpoint_auth_method` authenticates that way only. */
function allowed(client: ClientRecord): void {
  const registered = client.tokenEndpointAuthMethod
  if (registered !== undefined && registered !== 'private_key_jwt') {
    refuse(`client ${client.clientId} must authenticate with ${registered}`)
  }
}

/** `exp` present and not passed, `nbf` passed, `iat` not in the future; returns `exp`. */
function checkTimes(payload: Readonly<Record<string, unknown>>, now: number, tolerance: number): number {
  const { exp, nbf, iat } = payload
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return refuse('the client assertion has no exp')
  if (exp <= now - tolerance) refuse('the client assertion has expired')
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + tolerance)) {
    refuse('the client assertion is not valid yet (nbf)')
  }
  if (iat !== undefined && (typeof iat !== 'number' || iat > now + tolerance)) {
    refuse('the client assertion is issued in the future (iat)')
  }
  return exp
}

/**
 * The signature, by a key of `keys` that fits `alg`: the one its `kid` names, or without a `kid` any that fits (the
 * set fetched again once when none does, as for an unknown `kid`).
 */
async function checkSignature(
  decoded: ReturnType<typeof decodeJws>,
  alg: JwsAlgorithm,
  keys: CandidateKeys,
  whose: string,
): Promise<void> {
  const header = decoded.header as JWSHeaderParameters
  const load = async (afterFailure: boolean): Promise<readonly KeySetEntry[]> => {
    try {
      return await keys.candidates(header, afterFailure)
    } catch (err) {
      if (!(err instanceof TollgateTokenError)) throw err
      if (err.code === 'ERR_TOKEN_UNKNOWN_KEY') {
        return refuse(`the client assertion is signed by an unknown key (kid ${echo(String(header.kid), 64)})`)
      }
      return refuse(`${whose} could not be fetched; retry shortly`, err.message)
    }
  }
  const verified = async (entries: readonly KeySetEntry[]) => {
    for (const entry of entries.slice(0, 8)) {
      if (await verifySignatureInPool(alg, entry.key, decoded.signingInput, decoded.signature)) return true
    }
    return false
  }
  const first = await load(false)
  if (typeof header.kid === 'string') {
    const [entry] = first
    if (!entry) refuse(`the client assertion is signed by an unknown key (kid ${echo(header.kid, 64)})`)
    if (!entryFits(entry as KeySetEntry, alg)) {
      refuse(`the client assertion's algorithm ${alg} does not fit the key its kid names`)
    }
    if (!(await verified(first))) refuse('the client assertion signature is invalid')
    return
  }
  if (await verified(first)) return
  // Without a kid: perhaps a key the set does not hold yet.
  const again = await load(true)
  const fresh = again.filter((entry) => !first.includes(entry))
  if (fresh.length === 0 && first.length === 0) refuse(`no key of ${whose} fits algorithm ${alg}`)
  if (!(await verified(fresh))) refuse('the client assertion signature is invalid')
}
