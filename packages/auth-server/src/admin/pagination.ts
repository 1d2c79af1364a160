// Cursor pagination of admin API lists: a page of items in a stable order and an opaque cursor for the next one.
import { InvalidRequest } from '../errors.js'

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 200

export interface Page<T> {
  readonly items: T[]
  /** Pass as `cursor` for the next page; absent on the last one. */
  readonly next: string | undefined
}

const encode = (key: string) => Buffer.from(key, 'utf8').toString('base64url')

/** The cursor of the page after the item with this key (for lists that page by hand). */
export const cursorAfter = encode

/** The key a cursor of this API names; a cursor it never gave is 400 `invalid_request`. */
export function decode(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,700}$/.test(cursor)) throw new InvalidRequest('the cursor is not one this API gave')
  return Buffer.from(cursor, 'base64url').toString('utf8')
}

/**
 * The page after `cursor` of `items` in the order of `key` (unique; compared by code unit, the same on every instance).
 *
 * @example
 * const { items, next } = pageOf(clients, (c) => c.clientId, query.cursor, query.limit)
 */
export function pageOf<T>(
  items: readonly T[],
  key: (item: T) => string,
  cursor: string | undefined,
  limit = DEFAULT_LIMIT,
): Page<T> {
  const after = cursor === undefined ? undefined : decode(cursor)
  const keyed = items
    .map((item) => ({ item, key: key(item) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const rest = (after === undefined ? keyed : keyed.filter((k) => k.key > after)).map((k) => k.item)
  const page = rest.slice(0, limit)
  const last = page.at(-1)
  return { items: page, next: rest.length > limit && last !== undefined ? encode(key(last)) : undefined }
}
