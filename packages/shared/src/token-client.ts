// TokenClient: gets access tokens from a Tollgate (or any RFC 6749) token endpoint for a service or an app, caches
// them until shortly before they expire, and never sends two token requests at once.
import type { webcrypto } from 'node:crypto'
import { DpopSigner, type DpopSigningAlgorithm } from './dpop/signer.js'
import { TokenEndpointError, TokenRequestError } from './errors.js'
import { type AssertionKeyInput, ClientAssertions } from './lib/client-assertion.js'
import { discover, endpoint } from './lib/discovery.js'
import { Retryable, retryAfter, withRetries } from './lib/retry.js'
import { SpanKind, traceHeaders, tracingState, withSpan } from './tracing.js'

/** What the token endpoint answered (RFC 6749 §5.1). */
export interface TokenSet {
  readonly accessToken: string
  readonly tokenType: string
  /** Epoch milliseconds, from `expires_in` (or `defaultExpiresIn` when the server sent none). */
  readonly expiresAt: number
  readonly scope?: string
  readonly refreshToken?: string
  readonly idToken?: string
  /** RFC 8693 §2.2.1, for exchanged tokens. */
  readonly issuedTokenType?: string
}

/** RFC 8693: what to exchange a token for. */
export interface ExchangeOptions {
  /** The service the new token is for (its audience: one of this client's exchange audiences). */
  readonly audience?: string
  /** Narrower scope than the subject token's: a space-separated string or a list. Default: what the server allows. */
  readonly scope?: string | readonly string[]
  /** The caller's own access token, sent as `actor_token` (RFC 8693 §2.1). */
  readonly actorToken?: string
}

/** RFC 8693 §3. */
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'
/** Exchanged tokens kept at most (each a subject × audience × scope). */
const MAX_EXCHANGED = 1_000

const scopeString = (scope: string | readonly string[] | undefined): string =>
  scope === undefined ? '' : typeof scope === 'string' ? scope : scope.join(' ')

/** The cache key of an exchange: everything that makes the server's answer differ. */
const exchangeKey = (subjectToken: string, o: ExchangeOptions): string =>
  `${o.audience ?? ''}\n${scopeString(o.scope)}\n${o.actorToken ?? ''}\n${subjectToken}`

export interface TokenClientOptions {
  /** The issuer URL: the token endpoint is discovered from its RFC 8414 (or OIDC) metadata. */
  readonly issuer?: string | URL
  /** The token endpoint, when known (skips discovery). One of `issuer` or `tokenEndpoint` is required. */
  readonly tokenEndpoint?: string | URL
  readonly clientId: string
  /** Omit for a public client, and for a client that authenticates with a key or its platform's token. */
  readonly clientSecret?: string
  /** How the secret is sent. Default `client_secret_basic` (or `none` without a secret). */
  readonly authMethod?: 'client_secret_basic' | 'client_secret_post' | 'none'
  /**
   * `private_key_jwt` (RFC 7523, OIDC Core §9): this client's private key — RSA, P-256 or Ed25519, as a KeyObject, a
   * WebCrypto key (non-extractable is fine) or a private JWK — signs a fresh, short-lived assertion for every token
   * request; the server holds only the public half. Instead of a secret.
   */
  readonly privateKey?: AssertionKeyInput
  /** The `kid` its public key was registered with (default: the JWK's own `kid`, if any). */
  readonly keyId?: string
  /** The assertions' algorithm: RS256 or PS256 for an RSA key; by default the key's (RS256, ES256, EdDSA). */
  readonly signingAlgorithm?: 'RS256' | 'PS256' | 'ES256' | 'EdDSA'
  /**
   * Workload identity: a file holding a token the platform issued for this workload (a Kubernetes projected
   * service-account token, a SPIFFE JWT-SVID, a CI job's OIDC token), sent as the client assertion. It is read afresh
   * whenever it changes (the platform renews it in place). Instead of a secret.
   */
  readonly clientAssertionFile?: string
  /** What that token is: `jwt-bearer` (default) or `jwt-spiffe` (a JWT-SVID). */
  readonly clientAssertionType?: 'jwt-bearer' | 'jwt-spiffe'
  /** Requested scope: a space-separated string or a list. Default: whatever the server grants. */
  readonly scope?: string | readonly string[]
  /** RFC 8707 resource indicator: the API the token is for. */
  readonly resource?: string
  /**
   * A refresh token: the client then uses the `refresh_token` grant and keeps the rotated token it gets back each
   * time (see `onRefreshToken` to persist it). Without one it uses `client_credentials`.
   */
  readonly refreshToken?: string
  /** Called with every new refresh token the server returns (rotation), before `getToken` resolves. */
  readonly onRefreshToken?: (refreshToken: string) => void | Promise<void>
  /** A cached token is replaced this long before it expires. Default 30 s (at most half its lifetime). */
  readonly expiryMarginMs?: number
  /** Retries after a network error, a timeout or a 5xx. Default 3; never after a 4xx. */
  readonly retries?: number
  /** First backoff delay; doubles each retry, with full jitter, capped by `maxRetryDelayMs`. Default 100 ms. */
  readonly retryDelayMs?: number
  readonly maxRetryDelayMs?: number
  /** Per-request timeout. Default 5 s. */
  readonly timeoutMs?: number
  /**
   * DPoP (RFC 9449): bind the tokens to a key of this client's own (generated on first use, its private half not
   * exportable; ES256 unless `alg: 'EdDSA'`), answer nonce challenges, and send proofs with {@link TokenClient.fetch}.
   */
  readonly dpop?: boolean | { readonly alg?: DpopSigningAlgorithm; readonly keyPair?: webcrypto.CryptoKeyPair }
  readonly fetch?: typeof fetch
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number
}

/**
 * Access tokens for one client, always fresh, one request at a time.
 *
 * @example
 * const tokens = new TokenClient({ issuer: 'https://auth.example', clientId: 'orders-svc', clientSecret, scope: 'stock:read' })
 * await fetch(stockUrl, { headers: { authorization: `Bearer ${await tokens.getToken()}` } })
 */
export class TokenClient {
  readonly #options: TokenClientOptions
  readonly #fetch: typeof fetch
  readonly #now: () => number
  #tokenEndpoint: Promise<string> | undefined
  #refreshToken: string | undefined
  #current: TokenSet | undefined
  /** When the cached token stops being handed out (epoch ms): its expiry minus the margin. */
  #refreshAt = 0
  #inFlight: Promise<TokenSet> | undefined
  readonly #dpop: DpopSigner | undefined
  /** Exchanged tokens by (audience, scope, subject token), with when each stops being handed out. */
  readonly #exchanged = new Map<string, { readonly token: TokenSet; readonly renewAt: number }>()
  readonly #exchanging = new Map<string, Promise<TokenSet>>()
  readonly #assertions: ClientAssertions | undefined

  constructor(options: TokenClientOptions) {
    if (!options.issuer && !options.tokenEndpoint) throw new TypeError('TokenClient needs `issuer` or `tokenEndpoint`')
    if (!options.clientId) throw new TypeError('TokenClient needs `clientId`')
    if (options.authMethod && options.authMethod !== 'none' && !options.clientSecret) {
      throw new TypeError(`authMethod ${options.authMethod} needs a clientSecret`)
    }
    const credentials = [options.clientSecret, options.privateKey, options.clientAssertionFile]
    if (credentials.filter((c) => c !== undefined).length > 1) {
      throw new TypeError('TokenClient takes one of clientSecret, privateKey or clientAssertionFile')
    }
    if (options.privateKey !== undefined || options.clientAssertionFile !== undefined) {
      this.#assertions = new ClientAssertions({
        clientId: options.clientId,
        ...(options.privateKey === undefined ? {} : { privateKey: options.privateKey }),
        ...(options.keyId === undefined ? {} : { keyId: options.keyId }),
        ...(options.signingAlgorithm === undefined ? {} : { alg: options.signingAlgorithm }),
        ...(options.clientAssertionFile === undefined ? {} : { file: options.clientAssertionFile }),
        ...(options.clientAssertionType === undefined ? {} : { fileType: options.clientAssertionType }),
        now: options.now ?? Date.now,
      })
    }
    this.#options = options
    this.#fetch = options.fetch ?? globalThis.fetch
    this.#now = options.now ?? Date.now
    this.#refreshToken = options.refreshToken
    if (options.dpop) {
      const dpop = options.dpop === true ? {} : options.dpop
      this.#dpop = new DpopSigner({
        ...(dpop.alg ? { alg: dpop.alg } : {}),
        ...(dpop.keyPair ? { keyPair: dpop.keyPair } : {}),
        now: this.#now,
      })
    }
    if (options.tokenEndpoint) this.#tokenEndpoint = Promise.resolve(String(options.tokenEndpoint))
  }

  /** The current refresh token (the latest rotation), if this client uses the refresh grant. */
  get refreshToken(): string | undefined {
    return this.#refreshToken
  }

  /** An access token valid for at least the expiry margin: from the cache, or from one shared token request. */
  async getToken(): Promise<string> {
    return (await this.getTokenSet()).accessToken
  }

  /** Like {@link getToken}, with everything the server returned. */
  getTokenSet(): Promise<TokenSet> {
    const current = this.#current
    if (current && this.#now() < this.#refreshAt) return Promise.resolve(current)
    this.#inFlight ??= this.#request().finally(() => {
      this.#inFlight = undefined
    })
    return this.#inFlight
  }

  /** Forgets the cached access token (e.g. after a resource server answered 401); the next call fetches a new one. */
  invalidate(): void {
    this.#current = undefined
  }

  /**
   * Token exchange (RFC 8693): a token for `audience` on behalf of the subject of `subjectToken` (the user's token
   * this service received), narrowed to `scope`. Cached per (subject token, audience, scope) until shortly before it
   * expires, with one request in flight per key however many callers ask.
   *
   * @example
   * const { accessToken } = await tokens.exchange(request.headers.authorization.slice(7), { audience: 'https://inventory.internal', scope: 'stock:read' })
   */
  exchange(subjectToken: string, options: ExchangeOptions = {}): Promise<TokenSet> {
    const scope = scopeString(options.scope)
    const key = exchangeKey(subjectToken, options)
    const cached = this.#exchanged.get(key)
    if (cached && this.#now() < cached.renewAt) return Promise.resolve(cached.token)
    const pending = this.#exchanging.get(key)
    if (pending) return pending
    const request = (async () => {
      const form = new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
      })
      if (options.audience !== undefined) form.set('audience', options.audience)
      if (scope !== '') form.set('scope', scope)
      if (options.actorToken !== undefined) {
        form.set('actor_token', options.actorToken)
        form.set('actor_token_type', ACCESS_TOKEN_TYPE)
      }
      const started = this.#now()
      const token = this.#tokenSet(await this.#post(form), started)
      this.#remember(key, token, this.#renewAt(token, started))
      return token
    })().finally(() => this.#exchanging.delete(key))
    this.#exchanging.set(key, request)
    return request
  }

  /** Keeps an exchanged token; past the bound, expired entries go first, then the oldest. */
  #remember(key: string, token: TokenSet, renewAt: number): void {
    this.#exchanged.delete(key)
    if (this.#exchanged.size >= MAX_EXCHANGED) {
      const now = this.#now()
      for (const [k, entry] of this.#exchanged) if (entry.renewAt <= now) this.#exchanged.delete(k)
      if (this.#exchanged.size >= MAX_EXCHANGED) this.#exchanged.delete(this.#exchanged.keys().next().value as string)
    }
    this.#exchanged.set(key, { token, renewAt })
  }

  async #request(): Promise<TokenSet> {
    const o = this.#options
    const form = new URLSearchParams()
    const refresh = this.#refreshToken
    if (refresh) {
      form.set('grant_type', 'refresh_token')
      form.set('refresh_token', refresh)
    } else {
      form.set('grant_type', 'client_credentials')
    }
    if (o.scope !== undefined) form.set('scope', typeof o.scope === 'string' ? o.scope : o.scope.join(' '))
    if (o.resource !== undefined) form.set('resource', o.resource)
    const started = this.#now()
    const token = this.#tokenSet(await this.#post(form), started)
    if (token.refreshToken && token.refreshToken !== this.#refreshToken) {
      this.#refreshToken = token.refreshToken
      await o.onRefreshToken?.(token.refreshToken)
    }
    this.#current = token
    this.#refreshAt = this.#renewAt(token, started)
    return token
  }

  /** When a token stops being handed out: its expiry minus the margin (at most half its lifetime). */
  #renewAt(token: TokenSet, started: number): number {
    return token.expiresAt - Math.min(this.#options.expiryMarginMs ?? 30_000, (token.expiresAt - started) / 2)
  }

  #tokenSet(body: Record<string, unknown>, started: number): TokenSet {
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60
    return {
      accessToken: body.access_token as string,
      tokenType: body.token_type as string,
      expiresAt: started + expiresIn * 1000,
      ...(typeof body.scope === 'string' ? { scope: body.scope } : {}),
      ...(typeof body.refresh_token === 'string' ? { refreshToken: body.refresh_token } : {}),
      ...(typeof body.id_token === 'string' ? { idToken: body.id_token } : {}),
      ...(typeof body.issued_token_type === 'string' ? { issuedTokenType: body.issued_token_type } : {}),
    }
  }

  /**
   * One token request: client authentication, a DPoP proof (retried once with the nonce a `use_dpop_nonce` answer
   * names), retries on network errors and 5xx. Resolves with the success body.
   */
  #post(form: URLSearchParams): Promise<Record<string, unknown>> {
    // A client span around the whole request (retries included), when the process traces; the token endpoint
    // continues it through `traceparent`.
    if (!tracingState.enabled) return this.#postOnce(form)
    return withSpan(
      'tollgate.token_request',
      { 'oauth.grant_type': form.get('grant_type') ?? '', 'oauth.client_id': this.#options.clientId },
      () => this.#postOnce(form),
      SpanKind.CLIENT,
    )
  }

  async #postOnce(form: URLSearchParams): Promise<Record<string, unknown>> {
    const endpoint = await this.#endpoint()
    const o = this.#options
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    }
    const method = o.authMethod ?? (o.clientSecret ? 'client_secret_basic' : 'none')
    if (this.#assertions) {
      // A fresh assertion for each attempt below: a private_key_jwt assertion is accepted once.
      form.set('client_id', o.clientId)
    } else if (method === 'client_secret_basic') {
      // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
      const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
      const pair = `${encode(o.clientId)}:${encode(o.clientSecret as string)}`
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`
    } else {
      form.set('client_id', o.clientId)
      if (method === 'client_secret_post') form.set('client_secret', o.clientSecret as string)
    }
    const assertions = this.#assertions
    const audience = this.#options.issuer ? String(this.#options.issuer) : endpoint
    return this.#withRetries(async () => {
      for (let attempt = 0; ; attempt++) {
        if (assertions) {
          const { assertion, type } = await assertions.next(audience)
          form.set('client_assertion_type', type)
          form.set('client_assertion', assertion)
        }
        if (this.#dpop) headers.dpop = await this.#dpop.proof('POST', endpoint)
        let res: Response
        try {
          res = await this.#fetch(endpoint, {
            method: 'POST',
            headers: traceHeaders(headers),
            body: form.toString(),
            signal: AbortSignal.timeout(o.timeoutMs ?? 5_000),
          })
        } catch (err) {
          throw new Retryable(`token request failed: ${(err as Error).message}`, undefined, undefined, { cause: err })
        }
        const fresh = this.#dpop?.remember(endpoint, res) ?? false
        const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined
        if (res.status >= 500) {
          throw new Retryable(
            `token endpoint answered ${res.status}`,
            res.status,
            retryAfter(res.headers.get('retry-after')),
          )
        }
        if (!res.ok) {
          const error = typeof json?.error === 'string' ? json.error : 'invalid_response'
          // RFC 9449 §8: the server wants a nonce in the proof; it sent one, so try again once with it.
          if (error === 'use_dpop_nonce' && fresh && attempt === 0) continue
          const description = typeof json?.error_description === 'string' ? json.error_description : undefined
          throw new TokenEndpointError(error, res.status, description)
        }
        if (!json || typeof json.access_token !== 'string' || typeof json.token_type !== 'string') {
          throw new TokenRequestError('token endpoint answered without access_token and token_type', res.status)
        }
        return json
      }
    })
  }

  /**
   * `fetch` with this client's access token: `Authorization: Bearer …`, or for DPoP tokens `Authorization: DPoP …`
   * with a fresh proof (`ath` included). A resource server's `use_dpop_nonce` challenge is answered once with its
   * nonce; a 401 `invalid_token` gets one retry with a new token.
   *
   * With `onBehalfOf`, the token is the one {@link exchange} gets for that subject token (and audience, scope).
   *
   * @example
   * const res = await tokens.fetch('https://inventory.internal/stock')
   * const asUser = await tokens.fetch(stockUrl, {}, { subjectToken, audience: 'https://inventory.internal' })
   */
  async fetch(
    input: string | URL,
    init: RequestInit = {},
    onBehalfOf?: ExchangeOptions & { readonly subjectToken: string },
  ): Promise<Response> {
    const url = new URL(input)
    const method = (init.method ?? 'GET').toUpperCase()
    let renewed = false
    let fresh = false
    for (let attempt = 0; attempt < 3; attempt++) {
      const token = onBehalfOf ? await this.#exchangedFor(onBehalfOf, fresh) : await this.getTokenSet()
      const headers = new Headers(init.headers)
      const dpop = token.tokenType.toLowerCase() === 'dpop' ? this.#dpop : undefined
      headers.set('authorization', `${dpop ? 'DPoP' : 'Bearer'} ${token.accessToken}`)
      if (dpop) headers.set('dpop', await dpop.proof(method, url, token.accessToken))
      // The called service continues this process's trace (W3C traceparent), when it traces.
      if (tracingState.enabled)
        for (const [k, v] of Object.entries(traceHeaders<Record<string, string>>({}))) headers.set(k, v)
      const res = await this.#fetch(url, { ...init, method, headers })
      if (res.status !== 401) return res
      const challenge = res.headers.get('www-authenticate') ?? ''
      if (dpop?.remember(url, res) && /error="use_dpop_nonce"/.test(challenge)) continue
      if (!renewed && /error="invalid_token"/.test(challenge)) {
        renewed = true
        if (onBehalfOf) fresh = true
        else this.invalidate()
        continue
      }
      return res
    }
    throw new TokenRequestError(`${url.href} kept refusing the token`, 401)
  }

  /** The exchanged token for a fetch; `fresh` drops the cached one first (the resource server refused it). */
  #exchangedFor(as: ExchangeOptions & { readonly subjectToken: string }, fresh: boolean): Promise<TokenSet> {
    if (fresh) this.#exchanged.delete(exchangeKey(as.subjectToken, as))
    return this.exchange(as.subjectToken, as)
  }

  #withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    return withRetries(this.#options, attempt)
  }

  #endpoint(): Promise<string> {
    this.#tokenEndpoint ??= this.#discover().catch((err) => {
      this.#tokenEndpoint = undefined // discovery is tried again on the next call
      throw err
    })
    return this.#tokenEndpoint
  }

  /** RFC 8414 metadata first, then OIDC discovery; the `issuer` must be exactly the configured one. */
  async #discover(): Promise<string> {
    const metadata = await discover(String(this.#options.issuer), (url) =>
      this.#withRetries(async () => {
        let res: Response
        try {
          res = await this.#fetch(url, {
            headers: { accept: 'application/json' },
            signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5_000),
          })
        } catch (err) {
          throw new Retryable(`discovery failed: ${(err as Error).message}`, undefined, undefined, { cause: err })
        }
        if (res.status >= 500) throw new Retryable(`discovery: ${url.href} answered ${res.status}`, res.status)
        return { status: res.status, body: await res.json().catch(() => undefined) }
      }),
    )
    return endpoint(metadata, 'token_endpoint')
  }
}
