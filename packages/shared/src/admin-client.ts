// AdminClient: Tollgate's admin API (/admin/v1) and RFC 7591 registration for scripts and deployment pipelines, with
// tokens from a TokenClient (client_credentials for a client holding admin scopes; DPoP when asked).
import { TollgateError } from './errors.js'
import { discover, endpoint } from './lib/discovery.js'
import { TokenClient, type TokenClientOptions } from './token-client.js'

/** The admin API (or a registration endpoint) refused a request: its status and RFC 6749-style error. */
export class AdminApiError extends TollgateError {
  constructor(
    readonly status: number,
    /** `insufficient_scope`, `precondition_failed` (a stale ETag), `invalid_client_metadata`, `not_found`, … */
    readonly error: string,
    readonly description: string | undefined,
  ) {
    super('ERR_ADMIN_API', `admin API answered ${status} ${error}${description ? `: ${description}` : ''}`)
  }
}

export interface AdminClientOptions {
  /** The auth server's issuer URL: the admin API lives under it. */
  readonly issuer: string | URL
  /** A client whose `scopes` list `tollgate:admin` (or an area's scope), registered with the issuer as an audience. */
  readonly clientId?: string
  readonly clientSecret?: string
  /** Default `tollgate:admin`. */
  readonly scope?: string
  /** Tokens from here instead (a user's session, a DPoP-bound client…): `clientId`/`clientSecret` are then unused. */
  readonly tokens?: Pick<TokenClient, 'fetch'>
  /** Options for the TokenClient made from `clientId` and `clientSecret` (DPoP, retries, timeouts). */
  readonly tokenClient?: Partial<TokenClientOptions>
  readonly fetch?: typeof fetch
}

/** A page of a list and the cursor of the next one. */
export interface AdminPage<T> {
  readonly items: T[]
  readonly next_cursor: string | null
}

/** A resource and the ETag to send back as `ifMatch` when changing it. */
export interface Versioned<T> {
  readonly body: T
  readonly etag: string | undefined
}

type Json = Record<string, unknown>
type Query = Record<string, string | number | boolean | undefined>

export interface RequestOptions {
  readonly body?: unknown
  readonly query?: Query
  /** The ETag read: the change applies only to that version (412 `precondition_failed` otherwise). */
  readonly ifMatch?: string
}

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/')

/**
 * @example
 * const admin = new AdminClient({ issuer: 'https://auth.example', clientId: 'ci-admin', clientSecret })
 * const { body: client } = await admin.clients.create({ client_id: 'orders', grant_types: ['client_credentials'], audiences: ['https://orders.internal'] })
 * for await (const event of admin.auditEvents.all({ type: 'client.*' })) console.log(event.type, event.actor)
 */
export class AdminClient {
  readonly #base: string
  readonly #tokens: Pick<TokenClient, 'fetch'>

  constructor(options: AdminClientOptions) {
    this.#base = String(options.issuer).replace(/\/+$/, '')
    if (options.tokens) this.#tokens = options.tokens
    else {
      if (!options.clientId) throw new TypeError('AdminClient needs `tokens`, or `clientId` and `clientSecret`')
      this.#tokens = new TokenClient({
        issuer: options.issuer,
        clientId: options.clientId,
        ...(options.clientSecret === undefined ? {} : { clientSecret: options.clientSecret }),
        scope: options.scope ?? 'tollgate:admin',
        // Admin tokens are addressed to the auth server itself (RFC 8707), so no other service can replay them here.
        resource: String(options.issuer),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...options.tokenClient,
      })
    }
  }

  /** Any admin API call: `path` is under /admin/v1. Resolves with the body and its ETag; throws AdminApiError. */
  async request<T = Json>(method: string, apiPath: string, options: RequestOptions = {}): Promise<Versioned<T>> {
    const url = new URL(`${this.#base}/admin/v1/${apiPath.replace(/^\/+/, '')}`)
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value))
    }
    const headers: Record<string, string> = { accept: 'application/json' }
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch
    const res = await this.#tokens.fetch(url, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    })
    const text = await res.text()
    const body = (text ? JSON.parse(text) : {}) as Json
    if (!res.ok) {
      throw new AdminApiError(
        res.status,
        typeof body.error === 'string' ? body.error : 'invalid_response',
        typeof body.error_description === 'string' ? body.error_description : undefined,
      )
    }
    return { body: body as T, etag: res.headers.get('etag') ?? undefined }
  }

  /** Every item of a list, page after page. */
  async *#all<T>(apiPath: string, query: Query = {}): AsyncGenerator<T> {
    let cursor: string | undefined
    for (;;) {
      const { body } = await this.request<AdminPage<T>>('GET', apiPath, { query: { ...query, cursor, limit: 200 } })
      yield* body.items
      if (body.next_cursor === null) return
      cursor = body.next_cursor
    }
  }

  readonly clients = {
    list: (query: Query = {}) => this.request<AdminPage<Json>>('GET', 'clients', { query }),
    all: (query: Query = {}) => this.#all<Json>('clients', query),
    get: (id: string) => this.request('GET', path('clients', id)),
    /** A confidential client without `client_secret` gets one: `body.client_secret`, shown once. */
    create: (definition: Json) => this.request('POST', 'clients', { body: definition }),
    replace: (id: string, definition: Json, ifMatch?: string) =>
      this.request('PUT', path('clients', id), { body: definition, ...(ifMatch ? { ifMatch } : {}) }),
    patch: (id: string, patch: Json, ifMatch?: string) =>
      this.request('PATCH', path('clients', id), { body: patch, ...(ifMatch ? { ifMatch } : {}) }),
    remove: (id: string, ifMatch?: string) => this.request('DELETE', path('clients', id), ifMatch ? { ifMatch } : {}),
    rotateSecret: (id: string, ifMatch?: string) =>
      this.request<{ client_id: string; client_secret: string }>(
        'POST',
        `${path('clients', id)}/secret`,
        ifMatch ? { ifMatch } : {},
      ),
  }

  readonly users = {
    list: (query: Query = {}) => this.request<AdminPage<Json>>('GET', 'users', { query }),
    all: (query: Query = {}) => this.#all<Json>('users', query),
    get: (sub: string) => this.request('GET', path('users', sub)),
    /** Without `password` one is generated: `body.password`, shown once. */
    create: (user: Json) => this.request('POST', 'users', { body: user }),
    /** `{ disabled: true }`, `{ password }`, `{ name, email, roles, … }`. */
    patch: (sub: string, patch: Json, ifMatch?: string) =>
      this.request('PATCH', path('users', sub), { body: patch, ...(ifMatch ? { ifMatch } : {}) }),
    remove: (sub: string, ifMatch?: string) => this.request('DELETE', path('users', sub), ifMatch ? { ifMatch } : {}),
  }

  readonly sessions = {
    list: (sub: string) => this.request<AdminPage<Json>>('GET', `${path('users', sub)}/sessions`),
    endAll: (sub: string) => this.request<{ ended: number }>('DELETE', `${path('users', sub)}/sessions`),
    /** By its id: the `sid` of its tokens. */
    end: (id: string) => this.request('DELETE', path('sessions', id)),
  }

  readonly keys = {
    list: () => this.request<AdminPage<Json>>('GET', 'keys'),
    rotate: (alg?: string) => this.request('POST', 'keys/rotate', { body: alg ? { alg } : {} }),
  }

  readonly initialAccessTokens = {
    /** `body.token` is shown once. */
    create: (options: { expires_in?: number; max_uses?: number; description?: string } = {}) =>
      this.request<Json & { token: string }>('POST', 'initial-access-tokens', { body: options }),
    list: () => this.request<AdminPage<Json>>('GET', 'initial-access-tokens'),
    revoke: (id: string) => this.request('DELETE', path('initial-access-tokens', id)),
  }

  readonly auditEvents = {
    /** `type` (comma-separated, `user.*`), `actor`, `target`, `since`, `until` (RFC 3339), `cursor`, `limit`. */
    list: (query: Query = {}) => this.request<AdminPage<Json>>('GET', 'audit-events', { query }),
    /** Every matching event, newest first. */
    all: (query: Query = {}) => this.#all<Json>('audit-events', query),
  }

  /**
   * RFC 7591 registration at the issuer's advertised `registration_endpoint`, with an initial access token from an
   * administrator. Resolves with the registered metadata: `client_secret` and `registration_access_token` are in it
   * once.
   *
   * @example
   * const { client_id, client_secret } = await AdminClient.register('https://auth.example', { grant_types: ['client_credentials'], audiences: ['https://orders.internal'] }, { initialAccessToken })
   */
  static async register(
    issuer: string | URL,
    metadata: Json,
    options: { readonly initialAccessToken?: string; readonly fetch?: typeof fetch } = {},
  ): Promise<Json> {
    const doFetch = options.fetch ?? globalThis.fetch
    const server = await discover(String(issuer), async (url) => {
      const res = await doFetch(url, { headers: { accept: 'application/json' } })
      return { status: res.status, body: await res.json().catch(() => undefined) }
    })
    const res = await doFetch(endpoint(server, 'registration_endpoint'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(options.initialAccessToken ? { authorization: `Bearer ${options.initialAccessToken}` } : {}),
      },
      body: JSON.stringify(metadata),
    })
    const body = (await res.json().catch(() => ({}))) as Json
    if (res.status !== 201) {
      throw new AdminApiError(
        res.status,
        typeof body.error === 'string' ? body.error : 'invalid_response',
        typeof body.error_description === 'string' ? body.error_description : undefined,
      )
    }
    return body
  }
}
