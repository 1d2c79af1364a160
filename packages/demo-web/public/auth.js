// The demo's auth client: access token in memory, bound to the page's DPoP key; one refresh in flight at a time,
// silent refresh on expiry or 401. Two kinds of session: a cookie session (`/session/login`, refresh token in an
// HttpOnly cookie) or a code-flow session (authorization code + PKCE; its refresh token, bound to this page's
// non-extractable DPoP key and so useless anywhere else, kept in this tab's sessionStorage).
import { fetchWithProof, thumbprint } from './dpop.js'

/** "A cookie session may exist": the page cannot read the HttpOnly cookie, so it asks only when this says so. */
const COOKIE_HINT = 'tollgate-demo:cookie-session'
const CODE_SESSION = 'tollgate-demo:code-session'
const LOGOUT_STATE = 'tollgate-demo:logout-state'

const codeSession = () => JSON.parse(sessionStorage.getItem(CODE_SESSION) || 'null')
const hasCookieHint = () => localStorage.getItem(COOKIE_HINT) === '1'

let config
let accessToken = null
let expiresAt = 0
let idClaims = null
let inFlight = null

export async function loadConfig() {
  config ??= await (await fetch('/config.json')).json()
  return config
}

export function decodeJwt(token) {
  const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))))
}

function accept(tokens) {
  accessToken = tokens.access_token
  expiresAt = Date.now() + tokens.expires_in * 1000
  if (tokens.id_token) idClaims = decodeJwt(tokens.id_token)
  return tokens
}

export const identity = () => idClaims
export const signedIn = () => accessToken !== null
/** Whether there is a session to resume on load (so a fresh visit makes no request that must fail). */
export const mayResume = () => codeSession() !== null || hasCookieHint()

/** A POST to the auth server's session endpoints, with the cookie and a DPoP proof (which binds the session). */
async function authPost(path, body) {
  const { authUrl } = await loadConfig()
  return fetchWithProof(`${authUrl}${path}`, {
    method: 'POST',
    credentials: 'include',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
}

export async function login(username, password) {
  const { clientId } = await loadConfig()
  const res = await authPost('/session/login', {
    client_id: clientId,
    username,
    password,
    scope: 'openid profile email notes:read notes:write',
  })
  const body = await res.json()
  if (!res.ok) throw new Error(body.error_description || body.error)
  localStorage.setItem(COOKIE_HINT, '1')
  return accept(body)
}

/** The code-flow session's refresh grant, with a proof by the key its refresh token is bound to. */
async function refreshCodeSession(saved) {
  const { authUrl, clientId } = await loadConfig()
  const res = await fetchWithProof(`${authUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: saved.refresh_token }),
  })
  if (!res.ok) {
    if (res.status < 500) sessionStorage.removeItem(CODE_SESSION)
    return undefined
  }
  const body = await res.json()
  sessionStorage.setItem(
    CODE_SESSION,
    JSON.stringify({ refresh_token: body.refresh_token, id_token: body.id_token ?? saved.id_token }),
  )
  if (!body.id_token && saved.id_token) idClaims = decodeJwt(saved.id_token)
  return accept(body)
}

/** A new access token from whichever session this page has; callers at the same moment share one request. */
export function refresh() {
  inFlight ??= (async () => {
    try {
      const saved = codeSession()
      const tokens = saved ? await refreshCodeSession(saved) : await refreshCookieSession()
      if (!tokens) {
        accessToken = null
        throw new Error('not signed in')
      }
      return tokens
    } finally {
      inFlight = null
    }
  })()
  return inFlight
}

async function refreshCookieSession() {
  const res = await authPost('/session/refresh')
  if (!res.ok) {
    if (res.status < 500) localStorage.removeItem(COOKIE_HINT)
    return undefined
  }
  localStorage.setItem(COOKIE_HINT, '1')
  return accept(await res.json())
}

/** Fetch with the access token, refreshing it first when it is about to expire and once more on a 401. */
export async function authorized(url, init = {}) {
  if (!accessToken || Date.now() > expiresAt - 1000) await refresh()
  const call = () => fetchWithProof(url, init, accessToken)
  let res = await call()
  if (res.status === 401) {
    await refresh()
    res = await call()
  }
  return res
}

/**
 * Signs out. A cookie session ends with `/session/logout`; a code-flow session with OpenID Connect RP-initiated
 * logout: the browser goes to the auth server's end_session_endpoint with the ID token and comes back here.
 */
export async function logout() {
  const saved = codeSession()
  if (saved) {
    const { authUrl } = await loadConfig()
    const metadata = await (await fetch(`${authUrl}/.well-known/openid-configuration`)).json()
    const state = random()
    sessionStorage.setItem(LOGOUT_STATE, state)
    forget()
    const url = new URL(metadata.end_session_endpoint)
    url.search = new URLSearchParams({
      id_token_hint: saved.id_token,
      post_logout_redirect_uri: `${location.origin}/`,
      state,
    }).toString()
    location.assign(url.href)
    return 'redirected'
  }
  await authPost('/session/logout')
  forget()
  return 'signed out'
}

/** Back from the end_session_endpoint: true when this is the answer to our own sign-out (state matches). */
export function returnedFromLogout(params) {
  const expected = sessionStorage.getItem(LOGOUT_STATE)
  sessionStorage.removeItem(LOGOUT_STATE)
  return expected !== null && params.get('state') === expected
}

/** Forgets this page's tokens and session hints (the session itself was ended elsewhere). */
export function forget() {
  accessToken = null
  idClaims = null
  localStorage.removeItem(COOKIE_HINT)
  sessionStorage.removeItem(CODE_SESSION)
}

// --- authorization code + PKCE --------------------------------------------------------------

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)))

export async function startCodeFlow() {
  const { authUrl, clientId } = await loadConfig()
  const verifier = random()
  const state = random()
  const nonce = random()
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)))
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state, nonce }))
  const url = new URL(`${authUrl}/oauth/authorize`)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: `${location.origin}/callback`,
    scope: 'openid profile email notes:read notes:write',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    // RFC 9449 §10: only this page's key may redeem the code.
    dpop_jkt: await thumbprint(),
  }).toString()
  location.assign(url.href)
}

export async function finishCodeFlow(params) {
  const { authUrl, clientId } = await loadConfig()
  const saved = JSON.parse(sessionStorage.getItem('pkce') || 'null')
  sessionStorage.removeItem('pkce')
  if (params.get('error')) throw new Error(params.get('error_description') || params.get('error'))
  if (!saved || params.get('state') !== saved.state)
    throw new Error('this sign-in was not started from this page, or it was already finished')
  if (params.get('iss') !== authUrl) throw new Error('the answer did not come from the expected sign-in server')
  const res = await fetchWithProof(`${authUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code: params.get('code'),
      redirect_uri: `${location.origin}/callback`,
      code_verifier: saved.verifier,
    }),
  })
  const body = await res.json()
  if (!res.ok) throw new Error(body.error_description || body.error)
  const claims = decodeJwt(body.id_token)
  if (claims.nonce !== saved.nonce) throw new Error('the answer does not belong to this sign-in')
  // The session this sign-in created is the page's from now on: the demo resumes it, sign-out ends it. One this tab
  // held before is ended first, so signing in again leaves nothing behind.
  const previous = codeSession()
  if (previous) {
    await fetch(`${authUrl}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: previous.refresh_token, client_id: clientId }),
    }).catch(() => {})
  }
  sessionStorage.setItem(CODE_SESSION, JSON.stringify({ refresh_token: body.refresh_token, id_token: body.id_token }))
  accept(body)
  return { tokens: body, claims }
}
