// DPoP in the browser (RFC 9449), as the demo app does it: a P-256 key pair made by WebCrypto whose private key cannot
// be exported, kept in IndexedDB, and a fresh proof for every request. A token or refresh token copied out of the
// console is useless anywhere else.

const DB = 'tollgate-console'
const STORE = 'keys'
let keys: Promise<{ pair: CryptoKeyPair; jwk: JsonWebKey }> | undefined
const nonces = new Map<string, string>()

export const b64url = (bytes: ArrayBuffer | Uint8Array): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
const utf8 = (text: string) => new TextEncoder().encode(text)

function database(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1)
    open.onupgradeneeded = () => open.result.createObjectStore(STORE)
    open.onsuccess = () => resolve(open.result)
    open.onerror = () => reject(open.error)
  })
}

function stored<T>(db: IDBDatabase, mode: IDBTransactionMode, act: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = act(db.transaction(STORE, mode).objectStore(STORE))
    request.onsuccess = () => resolve(request.result as T)
    request.onerror = () => reject(request.error)
  })
}

/** The console's key pair: from IndexedDB, or made (private key non-extractable) and saved there. */
export function keyPair(): Promise<{ pair: CryptoKeyPair; jwk: JsonWebKey }> {
  keys ??= (async () => {
    const db = await database()
    let pair = await stored<CryptoKeyPair | undefined>(db, 'readonly', (s) => s.get('dpop'))
    if (!pair) {
      pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
      await stored(db, 'readwrite', (s) => s.put(pair, 'dpop'))
    }
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey)
    return { pair, jwk: { kty, crv, x, y } }
  })()
  return keys
}

/** A proof for one request; with `accessToken`, its hash (`ath`). */
export async function proof(method: string, url: string, accessToken?: string): Promise<string> {
  const { pair, jwk } = await keyPair()
  const target = new URL(url)
  const claims: Record<string, unknown> = {
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

/** The RFC 7638 thumbprint of the console's key: the authorization request's `dpop_jkt`. */
export async function thumbprint(): Promise<string> {
  const { jwk } = await keyPair()
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
  return b64url(await crypto.subtle.digest('SHA-256', utf8(canonical)))
}

/**
 * `fetch` with a fresh proof (and `Authorization: DPoP <token>` when given), answering one `use_dpop_nonce`
 * challenge (RFC 9449 §8) with the nonce it carries.
 */
export async function fetchWithProof(url: string, init: RequestInit = {}, token?: string): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase()
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(init.headers)
    headers.set('dpop', await proof(method, url, token))
    if (token) headers.set('authorization', `DPoP ${token}`)
    const res = await fetch(url, { ...init, method, headers })
    const nonce = res.headers.get('dpop-nonce')
    const origin = new URL(url).origin
    const fresh = nonce !== null && nonces.get(origin) !== nonce
    if (nonce) nonces.set(origin, nonce)
    if (attempt === 0 && fresh && (res.status === 400 || res.status === 401)) {
      const challenge = res.headers.get('www-authenticate') ?? ''
      const body =
        res.status === 400
          ? ((await res
              .clone()
              .json()
              .catch(() => ({}))) as { error?: string })
          : {}
      if (body.error === 'use_dpop_nonce' || challenge.includes('use_dpop_nonce')) continue
    }
    return res
  }
}
