// A client's credentials other than a secret (SPEC "Clients without shared secrets"; RFC 7591 §2): its public keys
// (`jwks` or `jwks_uri`), the platform identities that are it (`federated_identities`), and how it must authenticate
// (`token_endpoint_auth_method`) — each checked field by field.
import { hasPrivateMembers, importJwks, JwksFetchError } from '@tollgate/shared'
import type { FederatedIdentity, TokenEndpointAuthMethod } from '../store/types.js'
import { keyUrlProblem } from './key-urls.js'

export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
]

/** Keys a client may register inline; more belong behind a `jwks_uri`. */
const MAX_INLINE_KEYS = 10
const MAX_IDENTITIES = 20
const MAX_SUBJECT = 512
/** The members of a public JWK that are kept: the key, its id and what it is for. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use', 'key_ops'] as const
const IDENTITY_FIELDS = new Set(['issuer', 'subject'])
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/

type Fail = (message: string) => Error

/**
 * `jwks`: a JWK Set of public keys a JWS algorithm can check (RS256, PS256, ES256, ES384, EdDSA), each at most once
 * by `kid`; a private member anywhere is refused (it would be a leaked private key). Kept as public members only.
 */
export function jwksField(value: unknown, fail: Fail): { keys: Record<string, unknown>[] } | undefined {
  if (value === undefined) return undefined
  const keys = (value as { keys?: unknown } | null)?.keys
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Array.isArray(keys)) {
    throw fail('jwks must be a JWK Set: { "keys": [ ... ] }')
  }
  if (keys.length === 0 || keys.length > MAX_INLINE_KEYS) {
    throw fail(`jwks must hold 1 to ${MAX_INLINE_KEYS} keys (more belong behind a jwks_uri)`)
  }
  const kids = new Set<string>()
  const kept = keys.map((jwk: unknown, index) => {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw fail(`jwks.keys[${index}] is not a JWK`)
    const entry = jwk as Record<string, unknown>
    if (hasPrivateMembers(entry)) {
      throw fail(`jwks.keys[${index}] holds private key material: register the public key only`)
    }
    try {
      importJwks({ keys: [entry] }, 'any')
    } catch (err) {
      if (!(err instanceof JwksFetchError)) throw err
      throw fail(
        `jwks.keys[${index}] is not a usable signature key (RSA ≥ 2048 bits, P-256, P-384 or Ed25519, "use": "sig")`,
      )
    }
    if (entry.kid !== undefined) {
      if (typeof entry.kid !== 'string' || kids.has(entry.kid)) {
        throw fail(`jwks.keys[${index}]: kid must be a string, each kid once`)
      }
      kids.add(entry.kid)
    }
    return Object.fromEntries(PUBLIC_MEMBERS.filter((m) => entry[m] !== undefined).map((m) => [m, entry[m]]))
  })
  return { keys: kept }
}

/** `jwks_uri`: where the client publishes its keys; https (http only on loopback hosts). */
export function jwksUriField(value: unknown, fail: Fail): string | undefined {
  if (value === undefined) return undefined
  const problem = keyUrlProblem(value)
  if (problem !== undefined) throw fail(`jwks_uri ${problem}`)
  return value as string
}

/**
 * `federated_identities`: `[{ "issuer", "subject" }]`, the platform identities (a Kubernetes service account, a
 * SPIFFE ID, a CI job) whose tokens authenticate this client. With `trustedIssuers` (the bootstrap file's), each
 * issuer must be one of them.
 */
export function federatedIdentitiesField(
  value: unknown,
  fail: Fail,
  trustedIssuers?: ReadonlySet<string>,
): FederatedIdentity[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IDENTITIES) {
    throw fail(`federated_identities must be an array of 1 to ${MAX_IDENTITIES} { "issuer", "subject" } objects`)
  }
  const seen = new Set<string>()
  return value.map((identity: unknown, index) => {
    const at = `federated_identities[${index}]`
    if (typeof identity !== 'object' || identity === null || Array.isArray(identity)) {
      throw fail(`${at} must be an object { "issuer", "subject" }`)
    }
    const unknown = Object.keys(identity).find((field) => !IDENTITY_FIELDS.has(field))
    if (unknown !== undefined) throw fail(`${at}: unknown field "${unknown}"`)
    const { issuer, subject } = identity as Record<string, unknown>
    const problem = keyUrlProblem(issuer)
    if (problem !== undefined) throw fail(`${at}.issuer ${problem}`)
    if (typeof subject !== 'string' || subject === '' || subject.length > MAX_SUBJECT || CONTROL.test(subject)) {
      throw fail(`${at}.subject must be a non-empty string of at most ${MAX_SUBJECT} printable characters`)
    }
    if (trustedIssuers !== undefined && !trustedIssuers.has(issuer as string)) {
      throw fail(`${at}.issuer ${issuer as string} is not in trusted_issuers`)
    }
    const key = `${issuer as string}\n${subject}`
    if (seen.has(key)) throw fail(`${at} is listed twice`)
    seen.add(key)
    return { issuer: issuer as string, subject }
  })
}

/** `token_endpoint_auth_method` (RFC 7591 §2): one of {@link TOKEN_ENDPOINT_AUTH_METHODS}. */
export function authMethodField(value: unknown, fail: Fail): TokenEndpointAuthMethod | undefined {
  if (value === undefined) return undefined
  if (!(TOKEN_ENDPOINT_AUTH_METHODS as readonly unknown[]).includes(value)) {
    throw fail(`token_endpoint_auth_method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`)
  }
  return value as TokenEndpointAuthMethod
}
