// Ending users' sessions as an administrator (admin API and CLI): each end recorded and published first, so the
// session's access tokens are refused at every verifier within a second.
import type { AuditContext } from '../audit/event.js'
import { normalizeUsername, type SessionInfo, type UserRecord } from '../store/types.js'
import { sessionId } from '../tokens/refresh-token.js'
import type { AdminDeps } from './deps.js'
import { cursorAfter, decode } from './pagination.js'

/** A session as the admin API shows it: its public id (the `sid` of its tokens), never token material. */
export interface SessionJson {
  id: string
  client_id: string
  scope: string[]
  created_at: string
  last_used_at: string
  expires_at: string
  user_agent: string | null
}

export function sessionJson(s: SessionInfo): SessionJson {
  return {
    id: sessionId(s.fid),
    client_id: s.clientId,
    scope: [...s.scope],
    created_at: new Date(s.createdAt).toISOString(),
    last_used_at: new Date(s.lastUsedAt).toISOString(),
    expires_at: new Date(s.expiresAt).toISOString(),
    user_agent: s.userAgent ?? null,
  }
}

/** Ends a session by its public id, whoever's it is; `undefined` when no live session has it. */
export async function endSessionById(
  deps: AdminDeps,
  sid: string,
  by: AuditContext,
): Promise<{ sub: string; session: SessionInfo } | undefined> {
  const found = await deps.store.findSession(sid, deps.now())
  if (!found) return undefined
  await deps.revoker.endSession(found.sub, found.session.fid, 'admin', by)
  return found
}

/** Ends one session of a user (its public id) or, without `sid`, all of them; the number ended. */
export async function endUserSessions(deps: AdminDeps, sub: string, by: AuditContext, sid?: string): Promise<number> {
  if (sid === undefined) return deps.revoker.endUserSessions(sub, 'admin', by)
  const ended = await deps.revoker.endSessionById(sub, sid, 'admin', undefined, by)
  return ended?.ended ? 1 : 0
}

/** A live session with whose it is: `GET /admin/v1/sessions`. */
export interface LiveSessionJson extends SessionJson {
  sub: string
  username: string
}

/** How many users one page of every session looks at, at most (each is one store call). */
export const SESSION_SCAN_USERS = 500
const BATCH = 16
const userKey = (u: UserRecord) => `${normalizeUsername(u.username)}\u0000${u.sub}`

/**
 * Every live session, user by user (in username order), a page at a time: a page holds whole users' sessions, at least
 * `limit` of them unless the users run out, and looks at no more than {@link SESSION_SCAN_USERS} users, so it may come
 * back short with a cursor to follow.
 *
 * @example
 * const { items, next } = await listLiveSessions(ctx, query.cursor, 50)
 */
export async function listLiveSessions(
  deps: Pick<AdminDeps, 'store' | 'now'>,
  cursor: string | undefined,
  limit: number,
): Promise<{ items: LiveSessionJson[]; next: string | undefined }> {
  const after = cursor === undefined ? undefined : decode(cursor)
  const users = (await deps.store.listUsers())
    .map((user) => ({ user, key: userKey(user) }))
    .filter((u) => after === undefined || u.key > after)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const items: LiveSessionJson[] = []
  let scanned = 0
  const now = deps.now()
  while (scanned < users.length && scanned < SESSION_SCAN_USERS && items.length < limit) {
    // A few users' sessions at a time; the page ends with the user whose sessions reach the limit.
    const batch = users.slice(scanned, Math.min(scanned + BATCH, SESSION_SCAN_USERS))
    const lists = await Promise.all(batch.map(({ user }) => deps.store.listSessions(user.sub, now)))
    for (const [i, { user }] of batch.entries()) {
      for (const s of lists[i] ?? []) items.push({ ...sessionJson(s), sub: user.sub, username: user.username })
      scanned++
      if (items.length >= limit) break
    }
  }
  const last = users[scanned - 1]
  return { items, next: scanned < users.length && last ? cursorAfter(last.key) : undefined }
}
