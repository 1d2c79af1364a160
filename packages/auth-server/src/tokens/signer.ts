// Signs RFC 9068 access tokens (with the algorithm their audience asks for) and OIDC ID tokens (RS256 unless the
// client registered another) with the keystore's active key of that algorithm.

import type { ActorClaim, SigningAlgorithm } from '@tollgate/shared'
import type { Keystore } from '../keys/keystore.js'
import type { UserRecord } from '../store/types.js'
import { signJwt } from './jws.js'
import { randomBase64url } from './random.js'

export interface AccessTokenInput {
  readonly sub: string
  readonly clientId: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  /** Seconds since the epoch; users only. */
  readonly authTime?: number
  readonly roles?: readonly string[]
  /** The session (its public id) a user's token belongs to, so it can be revoked with it. */
  readonly sid?: string
  /** RFC 9449: the thumbprint of the DPoP key the token is bound to (`cnf.jkt`). */
  readonly jkt?: string
  /** RFC 8693 §4.1: the actor chain of an exchanged token. */
  readonly act?: ActorClaim
}

export interface IssuedAccessToken {
  readonly token: string
  readonly jti: string
  /** Seconds since the epoch. */
  readonly exp: number
  readonly expiresIn: number
}

/** The user fields an ID token or userinfo may release. */
export type Identity = Pick<UserRecord, 'sub' | 'username' | 'name' | 'email' | 'emailVerified' | 'picture'>

export interface IdTokenInput {
  readonly user: Identity
  readonly clientId: string
  readonly scope: readonly string[]
  readonly authTime: number
  readonly nonce?: string
  /** OIDC `sid`: the session, as in the access tokens. */
  readonly sid?: string
  /** The client's `id_token_signed_response_alg`. Default RS256 (OIDC Core §2). */
  readonly alg?: SigningAlgorithm
}

export interface SignerOptions {
  readonly issuer: string
  readonly accessTokenTtl: number
  readonly idTokenTtl?: number
  readonly now: () => number
  /** The algorithm of an access token for these audiences (see resources.ts). Default: RS256 for every audience. */
  readonly accessTokenAlgorithm?: (audience: readonly string[]) => SigningAlgorithm
}

/** Lifetime of ID tokens, seconds. */
export const ID_TOKEN_TTL = 3600

/** A JWT ID with 128 bits of randomness. */
export const newJti = (): string => randomBase64url(16)

/**
 * Signs tokens. Header `{ alg, typ: at+jwt, kid }` for access tokens, `alg` the one their audience asks for; RSA
 * signing runs on the libuv pool, so it does not block the event loop.
 *
 * @example
 * const { token, expiresIn } = await signer.accessToken({ sub, clientId, scope, audience })
 */
export class TokenSigner {
  readonly #keystore: Keystore
  readonly #options: SignerOptions
  readonly #algorithmFor: (audience: readonly string[]) => SigningAlgorithm

  constructor(keystore: Keystore, options: SignerOptions) {
    this.#keystore = keystore
    this.#options = options
    this.#algorithmFor = options.accessTokenAlgorithm ?? (() => 'RS256')
  }

  /** The algorithm an access token for these audiences is signed with. */
  accessTokenAlgorithm(audience: readonly string[]): SigningAlgorithm {
    return this.#algorithmFor(audience)
  }

  get accessTokenTtl(): number {
    return this.#options.accessTokenTtl
  }

  async accessToken(
    input: AccessTokenInput,
    ttl = this.#options.accessTokenTtl,
    jti = newJti(),
  ): Promise<IssuedAccessToken> {
    const key = this.#keystore.signingKey(this.#algorithmFor(input.audience))
    const iat = Math.floor(this.#options.now() / 1000)
    const exp = iat + ttl
    const claims: Record<string, unknown> = {
      iss: this.#options.issuer,
      sub: input.sub,
      aud: input.audience.length === 1 ? input.audience[0] : input.audience,
      exp,
      iat,
      jti,
      client_id: input.clientId,
      scope: input.scope.join(' '),
    }
    if (input.authTime !== undefined) claims.auth_time = input.authTime
    if (input.sid !== undefined) claims.sid = input.sid
    if (input.jkt !== undefined) claims.cnf = { jkt: input.jkt }
    if (input.roles !== undefined && input.roles.length > 0) claims.roles = input.roles
    if (input.act !== undefined) claims.act = input.act
    const token = await signJwt(claims, 'at+jwt', key)
    return { token, jti, exp, expiresIn: ttl }
  }

  /** OIDC Core §2 ID token; profile and email claims only as the scopes allow. */
  async idToken(input: IdTokenInput): Promise<string> {
    const key = this.#keystore.signingKey(input.alg ?? 'RS256')
    const iat = Math.floor(this.#options.now() / 1000)
    const claims: Record<string, unknown> = {
      iss: this.#options.issuer,
      sub: input.user.sub,
      aud: input.clientId,
      exp: iat + (this.#options.idTokenTtl ?? ID_TOKEN_TTL),
      iat,
      auth_time: input.authTime,
      ...userClaims(input.user, input.scope),
    }
    if (input.nonce !== undefined) claims.nonce = input.nonce
    if (input.sid !== undefined) claims.sid = input.sid
    return signJwt(claims, 'JWT', key)
  }
}

/** Signs a Security Event Token (RFC 8417 §2.3: `typ` `secevent+jwt`) with the active key of `alg`. */
export function signSecurityEvent(
  keystore: Pick<Keystore, 'signingKey'>,
  claims: Record<string, unknown>,
  alg: SigningAlgorithm = 'RS256',
): Promise<string> {
  return signJwt(claims, 'secevent+jwt', keystore.signingKey(alg))
}

/** The user claims the `profile` and `email` scopes release (OIDC Core §5.4). */
export function userClaims(user: Identity, scope: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (scope.includes('profile')) {
    if (user.name !== undefined) out.name = user.name
    if (user.picture !== undefined) out.picture = user.picture
    out.preferred_username = user.username
  }
  if (scope.includes('email') && user.email !== undefined) {
    out.email = user.email
    out.email_verified = user.emailVerified ?? false
  }
  return out
}
