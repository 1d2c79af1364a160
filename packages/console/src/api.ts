// The admin API (/admin/v1, docs/administration.md) as the console calls it: JSON in and out, ETags kept with what
// was read and sent back as If-Match, errors in the server's one error model kept whole (`error`, its description).
import { authorizedFetch } from './auth/session.js'
import { endpoint } from './settings.js'

/** An answer other than 2xx: `code` is the error model's `error` (`precondition_failed`, `invalid_client_metadata`…). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
  ) {
    super(description)
  }
  /** Someone changed the resource since it was read (`412 precondition_failed`): nothing was changed. */
  get conflict(): boolean {
    return this.status === 412
  }
}

export interface Answer<T> {
  readonly status: number
  readonly body: T
  /** The resource's version, to send back as If-Match. */
  readonly etag: string | null
}

export interface Page<T> {
  readonly items: T[]
  readonly next_cursor: string | null
}

type Query = Record<string, string | number | boolean | undefined>

/** The URL of an admin API path with its query (empty values left out). */
export function adminUrl(path: string, query: Query = {}): string {
  const url = new URL(endpoint(`/admin/v1${path}`))
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(name, String(value))
  }
  return url.href
}

/**
 * One call. `etag` makes a change conditional (If-Match); a PATCH is an RFC 7396 merge patch.
 *
 * @example
 * const { body, etag } = await call<Client>('GET', `/clients/${encodeURIComponent(id)}`)
 * await call('PATCH', `/clients/${encodeURIComponent(id)}`, { body: { name: 'Orders' }, etag })
 */
export async function call<T>(
  method: string,
  path: string,
  options: { body?: unknown; etag?: string | null; query?: Query; signal?: AbortSignal } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (options.body !== undefined) {
    headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
  }
  if (options.etag) headers['if-match'] = options.etag
  const res = await authorizedFetch(adminUrl(path, options.query), {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const text = await res.text()
  const body = text ? (JSON.parse(text) as unknown) : undefined
  if (!res.ok) {
    const error = (body ?? {}) as { error?: string; error_description?: string }
    throw new ApiError(
      res.status,
      error.error ?? 'error',
      error.error_description ?? `the server answered ${res.status}`,
    )
  }
  return { status: res.status, body: body as T, etag: res.headers.get('etag') }
}

/** Every item of a list, following `next_cursor` for at most `pages` pages; `more` when it stopped early. */
export async function collect<T>(path: string, query: Query = {}, pages = 5): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = []
  let cursor: string | undefined
  for (let i = 0; i < pages; i++) {
    const { body } = await call<Page<T>>('GET', path, { query: { ...query, limit: 200, cursor } })
    items.push(...body.items)
    if (!body.next_cursor) return { items, more: false }
    cursor = body.next_cursor
  }
  return { items, more: true }
}

// The resources as the admin API shows them.
export interface Client {
  client_id: string
  public: boolean
  name?: string
  grant_types: string[]
  scopes: string[]
  audiences: string[]
  dynamically_registered?: boolean
  created_at: string
  updated_at: string
  client_secret?: string
  [field: string]: unknown
}
export interface User {
  sub: string
  username: string
  email?: string
  email_verified?: boolean
  name?: string
  picture?: string
  roles: string[]
  disabled: boolean
  created_at: string
  updated_at: string
  password?: string
  sessions_ended?: number
}
export interface Session {
  id: string
  client_id: string
  scope: string[]
  created_at: string
  last_used_at: string
  expires_at: string
  user_agent: string | null
  sub?: string
  username?: string
}
export interface Key {
  kid: string
  alg: string
  state: 'pending' | 'active' | 'verifying' | 'retired' | string
  signing: boolean
  created_at: string
  activates_at: string
  retires_at: string | null
}
export interface AuditEvent {
  id: string
  type: string
  time: string
  actor: { type: string; id?: string; name?: string; client_id?: string }
  target?: { type: string; id: string; name?: string }
  outcome: 'success' | 'failure'
  request_id?: string
  source_ip?: string
  details?: Record<string, unknown>
}

export const enc = encodeURIComponent
