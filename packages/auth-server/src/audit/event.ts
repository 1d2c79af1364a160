// Audit events (SPEC "Administration over HTTP"): the types there are, who did it, and how an event is shown.
import type { AuditActor, AuditDetail, AuditEntry, AuditRecord, AuditTarget } from '../store/types.js'

/** Every event type, with what it records (docs/administration.md lists the same). */
export const AUDIT_EVENTS = {
  'user.signed_in': 'a user signed in (password grant, browser login, sign-in page)',
  'user.sign_in_failed': 'a sign-in was refused (wrong credentials, disabled account, throttled)',
  'user.locked_out': 'an account was locked after too many failed sign-ins',
  'address.locked_out': 'a source address was locked after too many failed sign-ins or client secrets',
  'refresh_token.reused': 'a spent refresh token came back: its session was revoked (theft)',
  'authorization_code.reused': 'an authorization code was redeemed twice: what it issued was revoked',
  'session.revoked': 'a session ended (logout, revocation, an administrator, a disabled user)',
  'access_token.revoked': 'an access token was revoked (RFC 7009)',
  'user.tokens_revoked': 'every token of a user issued until then was revoked (a disabled or deleted user)',
  'client.tokens_revoked': 'every token issued to a client until then was revoked (a removed client)',
  'key.rotated': 'a signing key was added: published now, signing after KEY_PUBLISH_DELAY',
  'client.created': 'a client was created (admin API, CLI)',
  'client.registered': 'a client registered itself (RFC 7591)',
  'client.updated': 'a client changed',
  'client.secret_rotated': "a client's secret was replaced",
  'client.deleted': 'a client was removed',
  'client.registration_refused': 'a registration or client-configuration request was refused for its credentials',
  'user.created': 'a user was created',
  'user.updated': "a user's profile or roles changed",
  'user.disabled': 'a user was disabled (their sessions end, their tokens are refused)',
  'user.enabled': 'a disabled user was enabled again',
  'user.password_changed': "a user's password was set by an administrator",
  'user.deleted': 'a user was deleted',
  'initial_access_token.created': 'an initial access token for client registration was issued',
  'initial_access_token.revoked': 'an initial access token was withdrawn',
} as const

export type AuditEventType = keyof typeof AUDIT_EVENTS

/** Who acts, and from where: what every audit event records besides its type and target. */
export interface AuditContext {
  readonly actor: AuditActor
  readonly requestId?: string
  readonly ip?: string
}

/** The server acting on its own (automatic key rotation, a revocation found during a refresh). */
export const SYSTEM: AuditContext = Object.freeze({ actor: Object.freeze({ type: 'system' as const }) })

/** What an event is about and how it went. */
export interface AuditFields {
  readonly target?: AuditTarget
  readonly outcome?: 'success' | 'failure'
  readonly details?: Readonly<Record<string, AuditDetail | undefined>>
}

/** The record of an event: details that are undefined are left out. */
export function auditRecord(type: AuditEventType, by: AuditContext, fields: AuditFields, time: number): AuditRecord {
  const details: Record<string, AuditDetail> = {}
  for (const [name, value] of Object.entries(fields.details ?? {})) if (value !== undefined) details[name] = value
  return {
    type,
    time,
    actor: by.actor,
    outcome: fields.outcome ?? 'success',
    ...(fields.target ? { target: fields.target } : {}),
    ...(by.requestId ? { requestId: by.requestId } : {}),
    ...(by.ip ? { sourceIp: by.ip } : {}),
    ...(Object.keys(details).length > 0 ? { details } : {}),
  }
}

/** An actor as the `actor` filter and `created_by` fields write it: `user:<sub>`, `operator:alice`, `system`. */
export const actorLabel = (actor: AuditActor): string => (actor.id ? `${actor.type}:${actor.id}` : actor.type)

/** An event as the admin API, the SSE stream and the log show it. */
export interface AuditEventJson {
  readonly id?: string
  readonly type: string
  readonly time: string
  readonly actor: { type: string; id?: string; name?: string; client_id?: string }
  readonly target?: AuditTarget
  readonly outcome: 'success' | 'failure'
  readonly request_id?: string
  readonly source_ip?: string
  readonly details?: Readonly<Record<string, AuditDetail>>
}

/**
 * @example
 * reply.send({ items: entries.map((e) => auditJson(e.event, e.id)) })
 */
export function auditJson(event: AuditRecord, id?: string): AuditEventJson {
  const { actor } = event
  return {
    ...(id ? { id } : {}),
    type: event.type,
    time: new Date(event.time).toISOString(),
    actor: {
      type: actor.type,
      ...(actor.id ? { id: actor.id } : {}),
      ...(actor.name ? { name: actor.name } : {}),
      ...(actor.clientId ? { client_id: actor.clientId } : {}),
    },
    ...(event.target ? { target: event.target } : {}),
    outcome: event.outcome,
    ...(event.requestId ? { request_id: event.requestId } : {}),
    ...(event.sourceIp ? { source_ip: event.sourceIp } : {}),
    ...(event.details ? { details: event.details } : {}),
  }
}

/** What a reader asks for: any of `types` (exact, or a prefix written `user.*`), an actor, a target. */
export interface AuditFilter {
  readonly types?: readonly string[]
  /** An actor's id, name or label (`operator:alice`). */
  readonly actor?: string
  /** A target's id or name. */
  readonly target?: string
}

/** Whether an entry matches a filter. */
export function matchesFilter(entry: AuditEntry, filter: AuditFilter): boolean {
  const { event } = entry
  if (filter.types && filter.types.length > 0) {
    const typed = filter.types.some((t) =>
      t.endsWith('.*') ? event.type.startsWith(t.slice(0, -1)) : event.type === t,
    )
    if (!typed) return false
  }
  if (filter.actor !== undefined) {
    const { actor } = event
    if (actor.id !== filter.actor && actor.name !== filter.actor && actorLabel(actor) !== filter.actor) return false
  }
  if (filter.target !== undefined) {
    const { target } = event
    if (!target || (target.id !== filter.target && target.name !== filter.target)) return false
  }
  return true
}

/**
 * Who acts in a request, with its id and source address.
 *
 * @example
 * await ctx.revoker.endSession(sub, fid, 'logout', requestContext(request, { type: 'user', id: sub }))
 */
export function requestContext(request: { readonly id: string; readonly ip: string }, actor: AuditActor): AuditContext {
  return { actor, requestId: request.id, ip: request.ip }
}

/** A user acting through a client (their access token's `sub` and `client_id`). */
export const userActor = (sub: string, clientId?: string, name?: string): AuditActor => ({
  type: 'user',
  id: sub,
  ...(name ? { name } : {}),
  ...(clientId ? { clientId } : {}),
})

/** A client acting for itself (authenticated at the token, revocation or registration endpoints). */
export const clientActor = (clientId: string): AuditActor => ({ type: 'client', id: clientId })
