// What the auth server tells the page (a meta element it renders, so nothing is inline script): its issuer, the
// console's client id and the path the console is served under.

export interface Settings {
  /** The issuer: the admin API and every OAuth endpoint are below it. */
  readonly issuer: string
  readonly clientId: string
  /** The console's path (`/console`, or `/auth/console` below an issuer with a path). */
  readonly base: string
}

let settings: Settings | undefined

export function readSettings(): Settings {
  if (settings) return settings
  const raw = document.querySelector('meta[name="tollgate-console"]')?.getAttribute('content') ?? '{}'
  const parsed = JSON.parse(raw) as Partial<Settings>
  if (!parsed.issuer || !parsed.clientId || parsed.base === undefined)
    throw new Error('the page has no console settings')
  settings = { issuer: parsed.issuer.replace(/\/+$/, ''), clientId: parsed.clientId, base: parsed.base }
  return settings
}

/** An endpoint of the auth server: `endpoint('/oauth/token')`. */
export const endpoint = (path: string): string => `${readSettings().issuer}${path}`

/** A page of the console: `page('clients/abc')` → `/console/clients/abc`. */
export const page = (path = ''): string => `${readSettings().base}/${path}`

/** A console page's full URL, on the issuer's origin (the client's registered redirect and logout URIs). */
export const pageUrl = (path = ''): string => new URL(page(path), readSettings().issuer).href
