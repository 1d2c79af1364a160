// Test helpers for the admin API and registration: a server with administrators (clients and a user) and calls.
import type { BootstrapDocument } from '../src/bootstrap.js'
import {
  API,
  basic,
  bootstrapDoc,
  form,
  ISSUER,
  SERVICE_SECRET,
  type TestServer,
  type TestServerOptions,
  testServer,
  USER_PASSWORD,
} from './helpers.js'

export const ADMIN_SECRET = 'admin-secret-0123456789abcdef0123456789abcdef'
const bot = (client_id: string, scopes: string[], audiences = [ISSUER]) => ({
  client_id,
  client_secret: ADMIN_SECRET,
  grant_types: ['client_credentials'],
  scopes,
  audiences,
})

/** The helpers' clients and users, plus administrators: full, per area, with the wrong audience, and a console. */
export const adminDoc: BootstrapDocument = {
  clients: [
    ...(bootstrapDoc.clients ?? []),
    bot('admin-bot', ['tollgate:admin']),
    bot('clients-bot', ['tollgate:admin:clients']),
    bot('users-bot', ['tollgate:admin:users']),
    bot('audit-bot', ['tollgate:admin:audit']),
    bot('api-bot', ['tollgate:admin'], [API]),
    bot('plain-bot', ['notes:read']),
    {
      client_id: 'console',
      public: true,
      grant_types: ['password', 'refresh_token'],
      scopes: ['openid', 'tollgate:admin', 'notes:read'],
      audiences: [ISSUER],
    },
  ],
  users: [
    ...(bootstrapDoc.users ?? []),
    { username: 'carol', password: USER_PASSWORD, email: 'carol@example.com', name: 'Carol' },
  ],
}

export interface AdminServer extends TestServer {
  /** A client_credentials token of one of the admin bots. */
  botToken(clientId: string): Promise<string>
  /** A password-grant token through the console client. */
  userToken(username: string): Promise<{ access_token: string; refresh_token: string; scope: string }>
  /** An admin API call with a token; JSON in and out. */
  call(
    method: string,
    url: string,
    token: string | undefined,
    payload?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }>
}

export async function adminServer(
  env: Record<string, string> = {},
  options: TestServerOptions = {},
): Promise<AdminServer> {
  const server = await testServer(env, { doc: adminDoc, ...options })
  const { app } = server
  const token = async (payload: Record<string, string>, authorization?: string) => {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization ? { authorization } : {}),
      },
      payload: form(payload),
    })
    if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`)
    return res.json()
  }
  return {
    ...server,
    async botToken(clientId) {
      const secret = clientId === 'service' ? SERVICE_SECRET : ADMIN_SECRET
      return (await token({ grant_type: 'client_credentials' }, basic(clientId, secret))).access_token
    },
    async userToken(username) {
      return token({ grant_type: 'password', client_id: 'console', username, password: USER_PASSWORD })
    },
    async call(method, url, bearer, payload, headers = {}) {
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
        ...(payload === undefined ? {} : { payload: payload as object }),
      })
      let body: Record<string, unknown> = {}
      try {
        body = res.body === '' ? {} : res.json()
      } catch {}
      return { status: res.statusCode, body, headers: res.headers }
    },
  }
}
