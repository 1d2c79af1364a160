// ETags of admin API resources (RFC 9110 §8.8.3): the record's version, so `If-Match` makes a write conditional.
import { PreconditionFailed } from '../errors.js'
import { versionOf } from '../store/types.js'

/** The strong ETag of a client or user record. */
export const etagOf = (record: { readonly updatedAt?: number; readonly createdAt: number }): string =>
  `"${versionOf(record)}"`

const TAG = /^"(\d{1,16})"$/

/**
 * The store condition an `If-Match` header asks for: `*` (the resource must exist) or a version. Without the header
 * the write is unconditional (`undefined`, or `fallback`). A weak or malformed tag can never match (RFC 9110 §13.1.1
 * compares strongly): 412.
 *
 * @example
 * await store.putClient(next, { ifMatch: ifMatchOf(request.headers['if-match'], '*') })
 */
export function ifMatchOf(header: string | string[] | undefined, fallback?: string): string | undefined {
  if (header === undefined) return fallback
  const value = (Array.isArray(header) ? header.join(',') : header).trim()
  if (value === '*') return '*'
  const version = TAG.exec(value)?.[1]
  if (version === undefined) throw new PreconditionFailed('If-Match names no current version of this resource')
  return version
}
