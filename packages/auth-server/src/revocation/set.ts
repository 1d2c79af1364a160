// Revocations as Security Event Tokens (RFC 8417): OpenID CAEP / RISC event types where they fit, ours otherwise;
// opaque identifiers and times only.
import type { RevocationEntry } from '../store/types.js'

/** The event type of each kind of revocation. */
export const EVENT_TYPES = {
  session: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  user: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  token: 'urn:tollgate:secevent:token-revoked',
  client: 'urn:tollgate:secevent:client-revoked',
} as const

const seconds = (ms: number) => Math.floor(ms / 1000)

/**
 * The claims of the SET for a log entry. Its `jti` is the entry's id (the follower's cursor); `sub_id` names what
 * ended (RFC 9493 subject identifiers); the event's `deny_until` is when no token it covers can still be valid, so a
 * verifier may forget it then.
 *
 * @example
 * setClaims('https://auth.example', { id: '1764700000000-0', revocation }) // { iss, iat, jti, sub_id, events }
 */
export function setClaims(issuer: string, entry: RevocationEntry): Record<string, unknown> {
  const r = entry.revocation
  const user = (sub: string) => ({ format: 'iss_sub', iss: issuer, sub })
  const event: Record<string, unknown> = { event_timestamp: seconds(r.at), deny_until: seconds(r.until) }
  let subId: Record<string, unknown>
  switch (r.kind) {
    case 'session':
      subId = { format: 'complex', session: { format: 'opaque', id: r.sid }, user: user(r.sub) }
      event.reason_admin = { en: r.reason }
      break
    case 'user':
      subId = user(r.sub)
      break
    case 'token':
      subId = { format: 'opaque', id: r.jti }
      break
    case 'client':
      subId = { format: 'opaque', id: r.clientId }
      break
  }
  return { iss: issuer, iat: seconds(r.at), jti: entry.id, sub_id: subId, events: { [EVENT_TYPES[r.kind]]: event } }
}
