// Reading OAuth form parameters: RFC 6749 §3.1 — no repeats, empty means absent.
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
