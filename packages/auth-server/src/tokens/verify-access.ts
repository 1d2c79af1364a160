// The auth server's own check of its access tokens (userinfo, sessions, introspection, revocation): the shared core,
// with keys from the keystore and any audience, plus what only the issuer knows — the revocation list.
import {
  type AccessTokenClaims,
  accessTokenCheck,
  InvalidTokenError,
  type KeySource,
  TollgateTokenError,
} from '@tollgate/shared'
import type { Keystore } from '../keys/keystore.js'
import type { Store } from '../store/types.js'

/** The keystore as a key source: every published key verifies, nothing else does. */
export function keystoreKeys(keystore: Pick<Keystore, 'verificationKey'>): KeySource {
  return {
    async getKey(header) {
      const key = typeof header.kid === 'string' ? await keystore.verificationKey(header.kid) : undefined
      if (!key) throw new InvalidTokenError('ERR_TOKEN_UNKNOWN_KEY', 'token is signed by an unknown key')
      return key
    },
  }
}

export interface AccessTokenDeps {
  readonly issuer: string
  readonly keystore: Pick<Keystore, 'verificationKey'>
  readonly store: Pick<Store, 'isAccessTokenRevoked'>
  readonly now: () => number
}

export interface VerifyOptions {
  /** Also consult the revocation list. Default true. */
  readonly checkRevoked?: boolean
}

/**
 * What this server accepts as its own access token.
 *
 * @example
 * const claims = await accessTokens.verify(token) // throws InvalidTokenError
 */
export class AccessTokens {
  readonly #check: (token: string) => Promise<{ claims: AccessTokenClaims }>
  readonly #store: AccessTokenDeps['store']

  constructor(deps: AccessTokenDeps) {
    this.#check = accessTokenCheck({ issuer: deps.issuer, keys: keystoreKeys(deps.keystore), now: deps.now })
    this.#store = deps.store
  }

  /** The claims of a valid, unrevoked access token of this issuer; otherwise throws a TollgateTokenError. */
  async verify(token: string, options: VerifyOptions = {}): Promise<AccessTokenClaims> {
    const { claims } = await this.#check(token)
    if (options.checkRevoked !== false && (await this.#store.isAccessTokenRevoked(claims.jti))) {
      throw new InvalidTokenError('ERR_TOKEN_CLAIM', 'token has been revoked')
    }
    return claims
  }

  /** Like {@link verify}, but `undefined` for anything that is not an acceptable token (never throws for input). */
  async claimsOf(token: string, options: VerifyOptions = {}): Promise<AccessTokenClaims | undefined> {
    try {
      return await this.verify(token, options)
    } catch (err) {
      if (err instanceof TollgateTokenError) return undefined
      throw err
    }
  }
}
