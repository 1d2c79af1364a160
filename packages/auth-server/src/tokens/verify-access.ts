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
  readonly store: Pick<Store, 'revocationState'>
  readonly now: () => number
}

export interface VerifyOptions {
  /** Also consult what was revoked (the token, its session, its user, its client). Default true. */
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
    if (options.checkRevoked !== false && (await this.#revoked(claims))) {
      throw new InvalidTokenError('ERR_TOKEN_REVOKED', 'token has been revoked')
    }
    return claims
  }

  /** Whether the token, its session, or (for tokens issued by then) its user or client was revoked. */
  async #revoked(claims: AccessTokenClaims): Promise<boolean> {
    const sid = typeof claims.sid === 'string' ? claims.sid : undefined
    const state = await this.#store.revocationState({
      jti: claims.jti,
      sub: claims.sub,
      clientId: claims.client_id,
      ...(sid ? { sid } : {}),
    })
    const issuedAt = claims.iat * 1000
    return (
      state.token ||
      state.session ||
      (state.userAt !== undefined && issuedAt <= state.userAt) ||
      (state.clientAt !== undefined && issuedAt <= state.clientAt)
    )
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
