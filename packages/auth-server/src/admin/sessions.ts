// Ending users' sessions as an administrator (admin API and CLI): each end recorded and published first, so the
// session's access tokens are refused at every verifier within a second.
import type { AuditContext } from '../audit/event.js'
import type { SessionInfo } from '../store/types.js'
import { sessionId } from '../tokens/refresh-token.js'
import type { AdminDeps } from './deps.js'

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
