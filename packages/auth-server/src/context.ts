// What route and grant handlers share: configuration, store, keys, the token signer, metrics and hooks.
import type { FastifyBaseLogger } from 'fastify'
import type { AuditLog } from './audit/log.js'
import type { AssertionDeps } from './clients/assertion.js'
import type { ClientCache } from './clients/cache.js'
import type { ClientValidationOptions } from './clients/client.js'
import type { ClientOrigins } from './clients/origins.js'
import type { SecretHasher } from './clients/secrets.js'
import type { Config } from './config.js'
import type { DpopProofs } from './dpop/proofs.js'
import type { AuthHooks } from './events.js'
import type { Keystore } from './keys/keystore.js'
import type { AuthMetrics } from './metrics.js'
import type { Revoker } from './revocation/revoker.js'
import type { BruteForceGuard } from './security/brute-force.js'
import type { Seals } from './security/seals.js'
import type { Store } from './store/types.js'
import type { TokenSigner } from './tokens/signer.js'
import type { AccessTokens } from './tokens/verify-access.js'

export interface ServerContext {
  readonly config: Config
  /** The service log (pino). Request-scoped lines carry `reqId`. */
  readonly log: FastifyBaseLogger
  readonly store: Store
  /** Client records, cached for a few seconds (the token endpoint reads one per request). */
  readonly clients: ClientCache
  /** The browser origins some client allows (CORS of browser-facing endpoints). */
  readonly origins: ClientOrigins

  readonly keystore: Keystore
  readonly secrets: SecretHasher
  /** Client assertions: the clients' and trusted issuers' keys, the federated-identity index, the policy. */
  readonly assertions: Omit<AssertionDeps, 'clients'>
  /** What client definitions (admin API, registration) are checked against: SIGNING_ALGS, the trusted issuers. */
  readonly clientValidation: ClientValidationOptions
  readonly signer: TokenSigner
  /** Checks this server's own access tokens (and whether they were revoked). */
  readonly accessTokens: AccessTokens
  /** Ends sessions, tokens, users and clients, recording each in the revocation log first. */
  readonly revoker: Revoker
  /** The audit log: administrative changes and security events. */
  readonly audit: AuditLog
  /** DPoP proofs: checked once across instances, with nonces when DPOP_NONCE=required. */
  readonly dpop: DpopProofs
  /** HMAC seals for what a page hands the browser and gets back (a pushed request, a device consent). */
  readonly seals: Seals
  readonly metrics: AuthMetrics
  readonly hooks: AuthHooks
  readonly guard: BruteForceGuard

  /** Set on SIGTERM: /readyz fails so load balancers stop sending traffic while requests drain. */
  readonly lifecycle: { draining: boolean }
  /** Epoch milliseconds; injectable so tests and the test issuer control time. */
  readonly now: () => number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The auth server's shared state, set by buildApp. */
    readonly ctx: ServerContext
  }
}
