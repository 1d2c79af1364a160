// Test helpers: an issuer's keys, a token minter, and an in-process JWKS "server" as a fetch function.
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'

export const ISSUER = 'https://auth.test'
export const AUDIENCE = 'https://api.test'
export const JWKS_URI = 'https://auth.test/.well-known/jwks.json'

export interface TestKey {
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly jwk: JWK
}

export async function makeKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' }
  return { kid, privateKey, publicKey, jwk }
}

export const nowSec = () => Math.floor(Date.now() / 1000)

export function claims(overrides: JWTPayload = {}): JWTPayload {
  const iat = nowSec()
  return {
    iss: ISSUER,
    sub: 'user-1',
    aud: AUDIENCE,
    exp: iat + 300,
    iat,
    jti: 'jti-1',
    client_id: 'web',
    scope: 'notes:read profile',
    ...overrides,
  }
}

export function mint(
  key: TestKey,
  payload: JWTPayload = claims(),
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: key.kid, ...header })
    .sign(key.privateKey)
}

/** A fake JWKS endpoint: respond() decides each answer; `calls` counts requests. */
export function jwksServer(initial: JWK[]) {
  const state = {
    keys: initial,
    calls: 0,
    mode: 'ok' as 'ok' | 'error' | 'garbage' | 'hang' | 'empty',
  }
  const fetch = (async (_url: string | URL | Request, init?: RequestInit) => {
    state.calls++
    if (state.mode === 'hang') {
      return new Promise<Response>((_resolve, reject) => {
        // AbortSignal.timeout does not hold the event loop open; a real server would.
        const keepAlive = setTimeout(() => {}, 60_000)
        init?.signal?.addEventListener('abort', () => {
          clearTimeout(keepAlive)
          reject(init.signal?.reason)
        })
      })
    }
    if (state.mode === 'error') return new Response('oops', { status: 500 })
    if (state.mode === 'garbage') return new Response('<html>not json', { status: 200 })
    if (state.mode === 'empty') return new Response('{"keys":[]}', { status: 200 })
    return new Response(JSON.stringify({ keys: state.keys }), {
      status: 200,
      headers: { 'content-type': 'application/jwk-set+json' },
    })
  }) as typeof globalThis.fetch
  return { state, fetch }
}

/** Signs any header and payload text with RS256, bypassing jose's own checks (for forged-token tests). */
export async function signRaw(key: TestKey, header: unknown, payload: unknown | string): Promise<string> {
  const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
  const input = `${enc(header)}.${enc(payload)}`
  const sig = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key.privateKey, new TextEncoder().encode(input))
  return `${input}.${Buffer.from(sig).toString('base64url')}`
}
