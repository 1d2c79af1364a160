// Signing in to the console: the authorization-code flow with PKCE (S256) and DPoP (RFC 9449 §10 `dpop_jkt`), as the
// built-in public client, asking for tokens addressed to the auth server itself (`resource` = the issuer, RFC 8707)
// with the admin scope. The access token lives in memory; the refresh token, bound to this browser's non-extractable
// key and so useless anywhere else, in this tab's sessionStorage. One refresh in flight at a time.
import { endpoint, page, pageUrl, readSettings } from '../settings.js'
import { b64url, fetchWithProof, thumbprint } from './dpop.js'

const SESSION = 'tollgate-console:session'
const PENDING = 'tollgate-console:sign-in'
const SIGN_OUT = 'tollgate-console:sign-out'
/** `tollgate:admin` for everything; `openid profile` for the name in the top bar. */
export const SCOPE = 'openid profile tollgate:admin'

interface Saved {
  readonly refresh_token: string
  readonly id_token?: string
}
interface Tokens {
  readonly access_token: string
  readonly expires_in: number
  readonly scope?: string
  readonly refresh_token?: string
  readonly id_token?: string
}
export interface Identity {
  readonly sub: string
  readonly name?: string
  readonly preferred_username?: string
}

let accessToken: string | null = null
let expiresAt = 0
let scope: string[] = []
let identity: Identity | null = null
let inFlight: Promise<void> | null = null

const saved = (): Saved | null => JSON.parse(sessionStorage.getItem(SESSION) ?? 'null') as Saved | null
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)))

export function decodeJwt(token: string): Record<string, unknown> {
  const payload = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/')
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))))
}

function accept(tokens: Tokens, previous: Saved | null): void {
  accessToken = tokens.access_token
  expiresAt = Date.now() + tokens.expires_in * 1000
  scope = (tokens.scope ?? '').split(' ').filter(Boolean)
  const idToken = tokens.id_token ?? previous?.id_token
  if (idToken) identity = decodeJwt(idToken) as unknown as Identity
  if (tokens.refresh_token) {
    sessionStorage.setItem(
      SESSION,
      JSON.stringify({ refresh_token: tokens.refresh_token, ...(idToken ? { id_token: idToken } : {}) }),
    )
  }
}

export const currentIdentity = (): Identity | null => identity
/** Whether this tab has a session to resume (so a first visit makes no request that must fail). */
export const mayResume = (): boolean => saved() !== null
/** Whether the signed-in user holds an admin scope: only administrators get one (the `admin` role). */
export const isAdministrator = (): boolean =>
  scope.some((s) => s === 'tollgate:admin' || s.startsWith('tollgate:admin:'))

/** Off to the sign-in page; back at /console/callback, then to `returnTo`. */
export async function signIn(returnTo: string): Promise<void> {
  const { issuer, clientId } = readSettings()
  const verifier = random()
  const state = random()
  const nonce = random()
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)))
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, returnTo }))
  const request = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: pageUrl('callback'),
    scope: SCOPE,
    resource: issuer,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    dpop_jkt: await thumbprint(),
  })
  const url = new URL(endpoint('/oauth/authorize'))
  // Pushed first (RFC 9126), so the request cannot be altered on its way and a server with REQUIRE_PAR takes it; the
  // proof at the push binds the code to this browser's key as well (RFC 9449 §10.1).
  const pushed = await fetchWithProof(endpoint('/oauth/par'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: request,
  }).catch(() => undefined)
  const body = pushed?.ok ? ((await pushed.json()) as { request_uri?: string }) : {}
  url.search = new URLSearchParams(
    body.request_uri ? { client_id: clientId, request_uri: body.request_uri } : Object.fromEntries(request),
  ).toString()
  location.assign(url.href)
}

/** The sign-in's answer at /console/callback: state, iss and nonce checked, the code redeemed with PKCE and a proof. */
export async function finishSignIn(params: URLSearchParams): Promise<string> {
  const { issuer, clientId } = readSettings()
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as {
    verifier: string
    state: string
    nonce: string
    returnTo: string
  } | null
  sessionStorage.removeItem(PENDING)
  if (params.get('error')) throw new Error(params.get('error_description') ?? params.get('error') ?? 'refused')
  if (!pending || params.get('state') !== pending.state) {
    throw new Error('this sign-in was not started from this tab, or it was already finished')
  }
  if (params.get('iss') !== readSettings().issuer && params.get('iss') !== `${issuer}/`) {
    throw new Error('the answer did not come from this server')
  }
  const res = await fetchWithProof(endpoint('/oauth/token'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code: params.get('code') ?? '',
      redirect_uri: pageUrl('callback'),
      code_verifier: pending.verifier,
    }),
  })
  const body = (await res.json()) as Tokens & { error?: string; error_description?: string }
  if (!res.ok) throw new Error(body.error_description ?? body.error ?? `token endpoint: ${res.status}`)
  if (!body.id_token || decodeJwt(body.id_token).nonce !== pending.nonce) {
    throw new Error('the answer does not belong to this sign-in')
  }
  accept(body, null)
  return pending.returnTo
}

/** A new access token from the tab's session; callers at the same moment share one request. */
export function refresh(): Promise<void> {
  inFlight ??= (async () => {
    try {
      const session = saved()
      if (!session) throw new SignedOut()
      const res = await fetchWithProof(endpoint('/oauth/token'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: readSettings().clientId,
          refresh_token: session.refresh_token,
        }),
      })
      if (!res.ok) {
        if (res.status < 500) forget()
        throw res.status < 500 ? new SignedOut() : new Error(`the sign-in server answered ${res.status}`)
      }
      accept((await res.json()) as Tokens, session)
    } finally {
      inFlight = null
    }
  })()
  return inFlight
}

/** The session ended (signed out elsewhere, ended by an administrator, expired). */
export class SignedOut extends Error {
  constructor() {
    super('your console session has ended')
  }
}

/** A fresh-enough access token (renewed a little before it expires). */
export async function token(): Promise<string> {
  if (!accessToken || Date.now() > expiresAt - 5_000) await refresh()
  return accessToken as string
}

/** `fetch` with the access token and a proof; a 401 renews the token once and tries again. */
export async function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  let res = await fetchWithProof(url, init, await token())
  if (res.status === 401) {
    await refresh()
    res = await fetchWithProof(url, init, accessToken ?? undefined)
  }
  return res
}

/** Forgets this tab's tokens. */
export function forget(): void {
  accessToken = null
  identity = null
  scope = []
  sessionStorage.removeItem(SESSION)
}

/** Signs out: OpenID Connect RP-initiated logout ends the session at the server and comes back to the console. */
export function signOut(): void {
  const session = saved()
  forget()
  if (!session?.id_token) {
    location.assign(page(''))
    return
  }
  const state = random()
  sessionStorage.setItem(SIGN_OUT, state)
  const url = new URL(endpoint('/oauth/logout'))
  url.search = new URLSearchParams({
    id_token_hint: session.id_token,
    post_logout_redirect_uri: pageUrl(''),
    state,
  }).toString()
  location.assign(url.href)
}

/** Back from signing out: true when the answer is to this tab's own sign-out. */
export function returnedFromSignOut(params: URLSearchParams): boolean {
  const expected = sessionStorage.getItem(SIGN_OUT)
  sessionStorage.removeItem(SIGN_OUT)
  return expected !== null && params.get('state') === expected
}
