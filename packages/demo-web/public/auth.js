// The demo's auth client: access token in memory, bound to the page's DPoP key; one refresh in flight at a time,
// silent refresh on expiry or 401.
import { fetchWithProof, thumbprint } from './dpop.js'

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
  return accept(body)
}

/** Rotates the session cookie for a new access token; callers at the same moment share one request. */
export function refresh() {
  inFlight ??= (async () => {
    try {
      const res = await authPost('/session/refresh')
      if (!res.ok) {
        accessToken = null
        throw new Error('not signed in')
      }
      return accept(await res.json())
    } finally {
      inFlight = null
    }
  })()
  return inFlight
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

export async function logout() {
  await authPost('/session/logout')
  accessToken = null
  idClaims = null
}

export function forget() {
  accessToken = null
  idClaims = null
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
    scope: 'openid profile email notes:read',
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
  if (!saved || params.get('state') !== saved.state) throw new Error('state mismatch')
  if (params.get('iss') !== authUrl) throw new Error('unexpected issuer')
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
  if (claims.nonce !== saved.nonce) throw new Error('nonce mismatch')
  accept(body)
  return { tokens: body, claims }
}
