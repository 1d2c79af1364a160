// Reading OAuth form parameters: RFC 6749 §3.1 — no repeats, empty means absent; strict percent-encoding.
import { hasMalformedEscape } from '@tollgate/shared/service'
import { parse } from 'fast-querystring'
import { InvalidRequest } from './errors.js'

export type FormBody = Readonly<Record<string, string | string[] | undefined>>

/** Longest value accepted for any single parameter. */
export const MAX_PARAM_LENGTH = 4096

/** A single-valued parameter; repeated → invalid_request, empty → undefined. */
export function param(body: FormBody, name: string): string | undefined {
  const value = body[name]
  if (Array.isArray(value)) throw new InvalidRequest(`"${name}" must not be repeated`)
  if (value === undefined || value === '') return undefined
  if (value.length > MAX_PARAM_LENGTH) throw new InvalidRequest(`"${name}" is too long`)
  return value
}

/** A parameter that must be present. */
export function required(body: FormBody, name: string): string {
  const value = param(body, name)
  if (value === undefined) throw new InvalidRequest(`"${name}" is required`)
  return value
}

/** A parameter that may repeat (RFC 8707 `resource`). */
export function multi(body: FormBody, name: string): string[] {
  const value = body[name]
  if (value === undefined) return []
  const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== '')
  if (values.length > 16) throw new InvalidRequest(`too many "${name}" values`)
  if (values.some((v) => v.length > MAX_PARAM_LENGTH)) throw new InvalidRequest(`"${name}" is too long`)
  return values
}

/**
 * The `application/x-www-form-urlencoded` parser of every form endpoint (@fastify/formbody's `parser`): a `%` that does
 * not start a `%XX` escape is a malformed request (400), not a literal to pass on as part of a value.
 *
 * @example
 * await app.register(formbody, { bodyLimit: 4096, parser: parseForm })
 */
export function parseForm(text: string): FormBody {
  if (text.includes('%') && hasMalformedEscape(text)) {
    throw new InvalidRequest('the form body has a malformed percent-escape (% must start %XX)')
  }
  return parse(text) as FormBody
}

/** The same rule for query strings (read by Fastify's router, checked by a hook before any work). */
export function checkQueryEncoding(url: string): void {
  const q = url.indexOf('?')
  if (q !== -1 && url.includes('%', q) && hasMalformedEscape(url.slice(q + 1))) {
    throw new InvalidRequest('the query string has a malformed percent-escape (% must start %XX)')
  }
}
