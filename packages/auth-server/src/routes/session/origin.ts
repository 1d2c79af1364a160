// Cross-site protection for the browser session endpoints: the Origin must be one the client allows.
import { AccessDenied } from '../../errors.js'
import type { ClientRecord } from '../../store/types.js'

/** SameSite=Strict keeps the cookie off cross-site requests; this also refuses same-site origins the client does not list. */
export function requireAllowedOrigin(origin: string | undefined, client: ClientRecord): void {
  if (!origin || !client.allowedOrigins.includes(origin)) {
    throw new AccessDenied('this origin may not use the session endpoints of this client')
  }
}
