// DPoP in the browser (RFC 9449): a P-256 key pair made by WebCrypto with a private key that cannot be exported,
// kept in IndexedDB across reloads; a fresh proof for every request. A token copied out of this page is useless
// elsewhere: only this key can prove possession.

const DB = 'tollgate-demo'
const STORE = 'keys'
let keys
const nonces = new Map()

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
const utf8 = (text) => new TextEncoder().encode(text)

function database() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1)
    open.onupgradeneeded = () => open.result.createObjectStore(STORE)
    open.onsuccess = () => resolve(open.result)
    open.onerror = () => reject(open.error)
  })
}

async function stored(db, mode, act) {
  return new Promise((resolve, reject) => {
    const request = act(db.transaction(STORE, mode).objectStore(STORE))
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

/** The page's key pair: loaded from IndexedDB, or generated (non-extractable private key) and saved there. */
export async function keyPair() {
  keys ??= (async () => {
    const db = await database()
    let pair = await stored(db, 'readonly', (s) => s.get('dpop'))
    if (!pair) {
      pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
      await stored(db, 'readwrite', (s) => s.put(pair, 'dpop'))
    }
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey)
    return { pair, jwk: { kty, crv, x, y } }
  })()
  return keys
}

/** A DPoP proof for one request; `accessToken` adds its hash (`ath`). */
export async function proof(method, url, accessToken) {
  const { pair, jwk } = await keyPair()
  const target = new URL(url)
  const claims = {
    htm: method,
    htu: `${target.origin}${target.pathname}`,
    jti: b64url(crypto.getRandomValues(new Uint8Array(16))),
    iat: Math.floor(Date.now() / 1000),
  }
  if (accessToken) claims.ath = b64url(await crypto.subtle.digest('SHA-256', utf8(accessToken)))
  const nonce = nonces.get(target.origin)
  if (nonce) claims.nonce = nonce
  const input = `${b64url(utf8(JSON.stringify({ alg: 'ES256', typ: 'dpop+jwt', jwk })))}.${b64url(utf8(JSON.stringify(claims)))}`
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, utf8(input))
  return `${input}.${b64url(signature)}`
}

/** The RFC 7638 thumbprint of the page's key (`dpop_jkt` of the authorization request). */
export async function thumbprint() {
  const { jwk } = await keyPair()
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
  return b64url(await crypto.subtle.digest('SHA-256', utf8(canonical)))
}

/**
 * `fetch` with a fresh proof, answering one `use_dpop_nonce` challenge (RFC 9449 §8) with the nonce it carries.
 * `token`: send it as `Authorization: DPoP`, with its `ath`.
 */
export async function fetchWithProof(url, init = {}, token) {
  const method = (init.method || 'GET').toUpperCase()
  for (let attempt = 0; ; attempt++) {
    const headers = { ...init.headers, dpop: await proof(method, url, token) }
    if (token) headers.authorization = `DPoP ${token}`
    const res = await fetch(url, { ...init, method, headers })
    const nonce = res.headers.get('dpop-nonce')
    const origin = new URL(url).origin
    const fresh = nonce && nonces.get(origin) !== nonce
    if (nonce) nonces.set(origin, nonce)
    if (attempt === 0 && fresh && (res.status === 400 || res.status === 401)) {
      const challenge = res.headers.get('www-authenticate') || ''
      const body =
        res.status === 400
          ? await res
              .clone()
              .json()
              .catch(() => ({}))
          : {}
      if (body.error === 'use_dpop_nonce' || challenge.includes('use_dpop_nonce')) continue
    }
    return res
  }
}
