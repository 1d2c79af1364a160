// What administrative operations need, whoever calls them: the admin API (a server's context) or the CLI.
import type { AuditLog } from '../audit/log.js'
import type { ClientValidationOptions } from '../clients/client.js'
import type { SecretHasher } from '../clients/secrets.js'
import type { Revoker } from '../revocation/revoker.js'
import type { Store } from '../store/types.js'

export interface AdminDeps {
  readonly store: Store
  readonly revoker: Revoker
  readonly audit: AuditLog
  readonly secrets: SecretHasher
  readonly now: () => number
  /** This process's cache of client records: a change made here applies here at once (elsewhere within 5 s). */
  readonly clients?: { invalidate(clientId?: string): void }
  /** What client definitions are checked against besides themselves (SIGNING_ALGS, the trusted issuers). */
  readonly clientValidation?: ClientValidationOptions
}

/** The next version of a record: now, or just after the current one when a clock lags (versions only grow). */
export const nextVersion = (current: { readonly updatedAt?: number; readonly createdAt: number }, now: number) =>
  Math.max(now, (current.updatedAt ?? current.createdAt) + 1)
