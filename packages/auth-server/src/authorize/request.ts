// Validates an authorization request (RFC 6749 §4.1.1 + PKCE): which errors may redirect, which must not.
import type { ServerContext } from '../context.js'
import { InvalidScope, InvalidTarget } from '../errors.js'
import type { FormBody } from '../params.js'
import { grantScopes, parseScopeParam, pickAudience } from '../scope.js'
import type { ClientRecord } from '../store/types.js'
import { CODE_CHALLENGE } from './pkce.js'

export interface AuthorizationRequest {
  readonly client: ClientRecord
  readonly redirectUri: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  readonly resources: readonly string[]
  readonly state?: string
  readonly nonce?: string
  readonly codeChallenge: string
  /** RFC 9449 §10: only a token request with a proof by this key may redeem the code. */
  readonly dpopJkt?: string
}

/**
 * The request cannot be trusted to redirect (unknown client, unregistered
 * redirect_uri): show an error page, never send the browser anywhere.
 */
export class AuthorizePageError extends Error {
  override name = 'AuthorizePageError'
}

/** A well-identified request that is otherwise wrong: the error goes back to the client's redirect_uri. */
export class AuthorizeRedirectError extends Error {
  override name = 'AuthorizeRedirectError'
  constructor(
    readonly redirectUri: string,
    readonly error: string,
    description: string,
    readonly state: string | undefined,
  ) {
    super(description)
  }
}

const MAX_STATE = 1024

function single(params: FormBody, name: string, fail: (msg: string) => Error): string | undefined {
  const value = params[name]
  if (Array.isArray(value)) throw fail(`"${name}" must not be repeated`)
  if (value === undefined || value === '') return undefined
  if (value.length > 4096) throw fail(`"${name}" is too long`)
  return value
}

/** The `Location` for an authorization response (RFC 6749 §4.1.2, with RFC 9207 `iss`). */
export function redirectTo(redirectUri: string, params: Record<string, string | undefined>, issuer: string): string {
  const url = new URL(redirectUri)
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value)
  url.searchParams.set('iss', issuer)
  return url.href
}

/**
 * Checks the client and redirect_uri first (errors become a page), then the
 * rest (errors go back to the client with `state`).
 */
export async function parseAuthorizationRequest(ctx: ServerContext, params: FormBody): Promise<AuthorizationRequest> {
  const page = (msg: string) => new AuthorizePageError(msg)
  const clientId = single(params, 'client_id', page)
  if (clientId === undefined) throw page('client_id is missing')
  const client = clientId.length <= 256 ? await ctx.clients.get(clientId) : undefined
  if (!client) throw page('the client is not registered')
  const givenRedirect = single(params, 'redirect_uri', page)
  let redirectUri: string
  if (givenRedirect !== undefined) {
    // Exact string match (RFC 9700 §4.1.3): no prefix, no normalisation, no wildcards.
    if (!client.redirectUris.includes(givenRedirect)) throw page('redirect_uri is not registered for this client')
    redirectUri = givenRedirect
  } else if (client.redirectUris.length === 1) {
    redirectUri = client.redirectUris[0] as string
  } else {
    throw page('redirect_uri is missing')
  }

  const rawState = params.state
  const state = typeof rawState === 'string' && rawState !== '' ? rawState.slice(0, MAX_STATE) : undefined
  const fail = (error: string) => (msg: string) => new AuthorizeRedirectError(redirectUri, error, msg, state)
  const invalid = fail('invalid_request')
  if (Array.isArray(rawState)) throw invalid('"state" must not be repeated')

  const responseType = single(params, 'response_type', invalid)
  if (responseType !== 'code') throw fail('unsupported_response_type')('only response_type=code is supported')
  if (!client.grantTypes.includes('authorization_code')) {
    throw fail('unauthorized_client')('this client may not use the authorization code flow')
  }
  const method = single(params, 'code_challenge_method', invalid)
  const codeChallenge = single(params, 'code_challenge', invalid)
  if (codeChallenge === undefined) throw invalid('code_challenge is required (PKCE, S256)')
  if (method !== 'S256') throw invalid('code_challenge_method must be S256')
  if (!CODE_CHALLENGE.test(codeChallenge)) throw invalid('code_challenge is malformed')
  const nonce = single(params, 'nonce', invalid)
  const dpopJkt = single(params, 'dpop_jkt', invalid)
  if (dpopJkt !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(dpopJkt)) {
    throw invalid('dpop_jkt must be a JWK SHA-256 thumbprint (RFC 7638)')
  }

  let scope: string[]
  let audience: string[]
  const resourceParam = params.resource
  const resources = (Array.isArray(resourceParam) ? resourceParam : resourceParam ? [resourceParam] : []).filter(
    Boolean,
  )
  try {
    scope = grantScopes(parseScopeParam(single(params, 'scope', invalid)), client.scopes)
    audience = pickAudience(resources, client)
  } catch (err) {
    if (err instanceof InvalidScope) throw fail('invalid_scope')(err.message)
    if (err instanceof InvalidTarget) throw fail('invalid_target')(err.message)
    throw err
  }
  return {
    client,
    redirectUri,
    scope,
    audience,
    resources,
    codeChallenge,
    ...(state === undefined ? {} : { state }),
    ...(nonce === undefined ? {} : { nonce }),
    ...(dpopJkt === undefined ? {} : { dpopJkt }),
  }
}
