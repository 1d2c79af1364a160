// PROFILE=fapi2: the FAPI 2.0 Security Profile (final, 2025) as this server applies it — what a client must be to be
// registered at all, and what the endpoints refuse at run time. One module, so every rule can be read in one place.
//
//   §5.3.1 / §5.3.2  authorization server: PAR only (and PKCE S256), codes for at most 60 s, `iss` in responses,
//                    sender-constrained tokens only (here: DPoP), no password or implicit grant
//   §5.3.3           client authentication: private_key_jwt (or mTLS, not offered), assertion `aud` the issuer only
//   §5.4             algorithms: PS256, ES256, EdDSA (no RS256, no HMAC, no none)
import type { Config } from '../config.js'
import type { ClientRecord } from '../store/types.js'

export type Profile = 'none' | 'fapi2'

/** The JWS algorithms FAPI 2.0 §5.4 allows for client assertions and DPoP proofs. */
export const FAPI2_ALGORITHMS = ['PS256', 'ES256', 'EdDSA', 'Ed25519'] as const

export const isFapi2 = (config: Pick<Config, 'profile'>): boolean => config.profile === 'fapi2'

/** A loopback redirect (a native app's) may be http; every other must be https (FAPI 2.0 §5.3.2.2, RFC 8252 §7.3). */
function secureRedirect(uri: string): boolean {
  try {
    const url = new URL(uri)
    if (url.protocol === 'https:') return true
    return url.protocol === 'http:' && /^(localhost|127\.0\.0\.1|\[::1\])$/.test(url.hostname)
  } catch {
    return false
  }
}

/**
 * Why a client cannot be registered under the profile, in words, or undefined when it can. Startup (the bootstrap
 * file), the admin API and dynamic registration all refuse such a client, naming the reason.
 *
 * @example
 * const problem = fapi2Problem(record) // 'a public client cannot be registered under the FAPI 2.0 profile'
 */
export function fapi2Problem(client: ClientRecord): string | undefined {
  if (client.public) return 'a public client cannot be registered under the FAPI 2.0 profile (PROFILE=fapi2)'
  if (client.secretHash !== undefined) {
    return 'FAPI 2.0 (PROFILE=fapi2) allows private_key_jwt only: remove client_secret and register jwks or jwks_uri'
  }
  if (client.jwks === undefined && client.jwksUri === undefined) {
    return 'FAPI 2.0 (PROFILE=fapi2) allows private_key_jwt only: register jwks or jwks_uri'
  }
  if (client.tokenEndpointAuthMethod !== undefined && client.tokenEndpointAuthMethod !== 'private_key_jwt') {
    return `token_endpoint_auth_method ${client.tokenEndpointAuthMethod} is not allowed under the FAPI 2.0 profile`
  }
  if (client.grantTypes.includes('password')) return 'the password grant is not allowed under the FAPI 2.0 profile'
  const insecure = client.redirectUris.find((uri) => !secureRedirect(uri))
  if (insecure !== undefined) {
    return `redirect_uris: "${insecure}" must be https (or http on a loopback host) under the FAPI 2.0 profile`
  }
  return undefined
}
