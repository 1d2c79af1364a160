// The browser session cookie: the refresh token, HttpOnly, SameSite=Strict, Path=/session, never in a body.
import type { CookieSerializeOptions } from '@fastify/cookie'

/** `__Secure-` is only allowed (and only meaningful) with the Secure flag. */
export const cookieName = (secure: boolean): string => (secure ? '__Secure-tg_session' : 'tg_session')

export function cookieOptions(secure: boolean, maxAgeSec?: number): CookieSerializeOptions {
  return {
    path: '/session',
    httpOnly: true,
    sameSite: 'strict',
    secure,
    ...(maxAgeSec === undefined ? {} : { maxAge: Math.max(0, Math.floor(maxAgeSec)) }),
  }
}

/** `<base64url(client_id)>.<refresh token>`: the client is needed to rotate, and is not secret. */
export function encodeSessionCookie(clientId: string, token: string): string {
  return `${Buffer.from(clientId).toString('base64url')}.${token}`
}

export function decodeSessionCookie(value: string | undefined): { clientId: string; token: string } | undefined {
  if (!value || value.length > 1024) return undefined
  const dot = value.indexOf('.')
  if (dot < 1) return undefined
  const clientId = Buffer.from(value.slice(0, dot), 'base64url').toString('utf8')
  if (!/^[A-Za-z0-9._~:-]{1,128}$/.test(clientId)) return undefined
  return { clientId, token: value.slice(dot + 1) }
}
