// RFC 9126 Pushed Authorization Requests: a client sends its authorization request over a back channel (authenticated,
// validated as /oauth/authorize would), and the browser carries only a request_uri, usable once within 60 s.
import { randomBytes } from 'node:crypto'
import type { ServerContext } from '../context.js'
import { InvalidRequest, OAuthError } from '../errors.js'
import type { FormBody } from '../params.js'
import type { ClientRecord } from '../store/types.js'
import { AuthorizePageError, AuthorizeRedirectError, parseAuthorizationRequest } from './request.js'

/** RFC 9126 §2.2: the `request_uri` prefix. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:'
/** How long a pushed request lives (FAPI 2.0 asks for less than 600 s; one minute is plenty for a redirect). */
export const PAR_TTL_SEC = 60

/** Client credentials travel with the push (client authentication) but are never part of the stored request. */
const CREDENTIALS = ['client_secret', 'client_assertion', 'client_assertion_type']

/**
 * Validates and stores a pushed authorization request for an authenticated client; the error an invalid one gets is
 * what /oauth/authorize would have sent to the redirect URI, here as JSON (RFC 9126 §2.3).
 *
 * @example
 * const { request_uri, expires_in } = await pushAuthorizationRequest(ctx, client, body)
 */
export async function pushAuthorizationRequest(
  ctx: ServerContext,
  client: ClientRecord,
  body: FormBody,
): Promise<{ request_uri: string; expires_in: number }> {
  // RFC 9126 §2.1: a pushed request cannot itself point at another one.
  if (body.request_uri !== undefined) throw new InvalidRequest('"request_uri" cannot be pushed')
  if (body.client_id !== undefined && body.client_id !== client.clientId) {
    throw new InvalidRequest('client_id does not match the authenticated client')
  }
  const params: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(body)) {
    if (value !== undefined && !CREDENTIALS.includes(name)) params[name] = value as string | string[]
  }
  params.client_id = client.clientId
  try {
    await parseAuthorizationRequest(ctx, params)
  } catch (err) {
    if (err instanceof AuthorizePageError) throw new InvalidRequest(err.message)
    if (err instanceof AuthorizeRedirectError) throw new OAuthError(err.error, 400, err.message)
    throw err
  }
  const id = randomBytes(32).toString('base64url')
  await ctx.store.putPushedRequest(id, { clientId: client.clientId, params }, ctx.now() + PAR_TTL_SEC * 1000)
  return { request_uri: `${REQUEST_URI_PREFIX}${id}`, expires_in: PAR_TTL_SEC }
}

/**
 * The parameters of a pushed request named at /oauth/authorize (`client_id` + `request_uri`), taken once; an unknown,
 * used, expired or another client's request_uri is an error page (there is no trusted redirect URI to send it to).
 */
export async function takePushedParams(ctx: ServerContext, query: FormBody): Promise<FormBody> {
  const page = (message: string) => new AuthorizePageError(message)
  const uri = query.request_uri
  const clientId = query.client_id
  if (typeof uri !== 'string' || !uri.startsWith(REQUEST_URI_PREFIX)) throw page('request_uri is malformed')
  if (typeof clientId !== 'string' || clientId === '' || clientId.length > 256) throw page('client_id is missing')
  const pushed = await ctx.store.takePushedRequest(uri.slice(REQUEST_URI_PREFIX.length), clientId)
  if (!pushed) throw page('this authorization request has expired or was already used: start again from the app')
  return pushed.params as FormBody
}

/** Whether this client's authorization requests must come through PAR (the server's REQUIRE_PAR or its own flag). */
export const parRequired = (ctx: ServerContext, client: ClientRecord): boolean =>
  ctx.config.requirePar || client.requirePushedAuthorizationRequests === true
