// The console's own client (SPEC "The console"): a public client the server registers itself, from its configuration,
// for the code flow with PKCE and DPoP at /console; its tokens are addressed to this server (the admin API's audience).
import { ADMIN_AREAS, ADMIN_SCOPE, areaScope } from '../admin/scopes.js'
import type { ClientRecord } from '../store/types.js'
import { ClientValidationError } from './client.js'

/** The built-in client's id: reserved, never stored, so no administrator can remove or weaken it. */
export const CONSOLE_CLIENT_ID = 'tollgate-console'
/** The refusal of a client definition that names the console's id (admin API, CLI, registration, bootstrap file). */
export const reservedId = (): ClientValidationError =>
  new ClientValidationError(`client_id "${CONSOLE_CLIENT_ID}" is reserved for the built-in console client`, 'client_id')

/** Where the console is served, below the issuer's base URL. */
export const CONSOLE_PATH = '/console'

/**
 * The console's client for an issuer: the code flow only (plus refresh), every token DPoP-bound, addressed to the
 * issuer. Only users with the `admin` role get its admin scopes (admin/scopes.ts `userScope`); anyone else who signs in
 * gets `openid profile` and the console shows them nothing.
 *
 * @example
 * const client = consoleClient('https://auth.example.com') // redirect_uris: ['https://auth.example.com/console/callback']
 */
export function consoleClient(baseUrl: string, issuer = baseUrl, createdAt = 0): ClientRecord {
  const home = `${baseUrl}${CONSOLE_PATH}/`
  return Object.freeze({
    clientId: CONSOLE_CLIENT_ID,
    public: true,
    name: 'Tollgate console',
    grantTypes: Object.freeze(['authorization_code', 'refresh_token'] as const),
    scopes: Object.freeze(['openid', 'profile', ADMIN_SCOPE, ...ADMIN_AREAS.map(areaScope)]),
    audiences: Object.freeze([issuer]),
    redirectUris: Object.freeze([`${home}callback`]),
    postLogoutRedirectUris: Object.freeze([home]),
    allowedOrigins: Object.freeze([new URL(baseUrl).origin]),
    dpopBoundAccessTokens: true,
    createdAt,
  })
}
