// Scope and audience rules: parse RFC 6749 §3.3 scope strings, intersect with what a client may have, pick the RFC 8707 audience.
import { echo } from '@tollgate/shared/service'
import { InvalidScope, InvalidTarget } from './errors.js'
import type { ClientRecord } from './store/types.js'

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/
export const MAX_SCOPES = 64
export const MAX_SCOPE_LENGTH = 128

/** Whether a string is a valid scope token. */
export function isScopeToken(value: string): boolean {
  return value.length <= MAX_SCOPE_LENGTH && SCOPE_TOKEN.test(value)
}

/** The distinct scope tokens of a `scope` parameter; `undefined` when absent. */
export function parseScopeParam(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined
  const tokens = raw.split(' ').filter((s) => s !== '')
  if (tokens.length === 0) return undefined
  if (tokens.length > MAX_SCOPES) throw new InvalidScope(`at most ${MAX_SCOPES} scopes may be requested`)
  for (const token of tokens) {
    if (!isScopeToken(token)) throw new InvalidScope('scope is malformed')
  }
  return [...new Set(tokens)]
}

/**
 * The scopes to grant: what was requested, when every requested scope is
 * allowed; all allowed scopes when none were requested.
 */
export function grantScopes(requested: readonly string[] | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) return [...allowed]
  const permitted = new Set(allowed)
  for (const scope of requested) {
    if (!permitted.has(scope)) throw new InvalidScope(`scope "${echo(scope)}" is not allowed for this client`)
  }
  return [...requested]
}

function isResourceUri(value: string): boolean {
  if (value.includes('#')) return false
  try {
    return new URL(value).protocol.length > 1
  } catch {
    return false
  }
}

/**
 * RFC 8707: the token audience. Each `resource` must be an absolute URI the
 * client is allowed; without one, the client's first audience.
 */
export function pickAudience(resources: readonly string[], client: ClientRecord): string[] {
  if (resources.length === 0) {
    const first = client.audiences[0]
    if (first === undefined) throw new InvalidTarget('this client has no audience configured')
    return [first]
  }
  const allowed = new Set(client.audiences)
  for (const resource of resources) {
    if (!isResourceUri(resource)) throw new InvalidTarget('resource must be an absolute URI without a fragment')
    if (!allowed.has(resource)) throw new InvalidTarget('resource is not allowed for this client')
  }
  return [...new Set(resources)]
}
