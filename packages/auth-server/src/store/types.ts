// The store contract: every piece of shared state, implemented by Redis (production) and memory (development, tests).
import { type SigningAlgorithm, TollgateError } from '@tollgate/shared'
import type { AuditEntry, AuditRange, AuditWrite, InitialAccessTokenRecord, WriteOptions } from './admin-types.js'

export * from './admin-types.js'

/** RFC 8693 §2.1: the token-exchange grant's `grant_type`. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
/** RFC 8628 §3.4: the device authorization grant's `grant_type`. */
export const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code'
export const GRANT_TYPES = [
  'client_credentials',
  'password',
  'refresh_token',
  'authorization_code',
  TOKEN_EXCHANGE,
  DEVICE_CODE,
] as const
export type GrantType = (typeof GRANT_TYPES)[number]

export interface UserRecord {
  /** Stable subject identifier (a UUID), never reused. */
  readonly sub: string
  readonly username: string
  readonly passwordHash: string
  readonly email?: string
  readonly emailVerified?: boolean
  readonly name?: string
  readonly picture?: string
  readonly roles: readonly string[]
  readonly disabled: boolean
  /** Epoch milliseconds. */
  readonly createdAt: number
  readonly updatedAt: number
}

export interface ClientRecord {
  readonly clientId: string
  /** Keyed hash of the secret; absent for public clients. */
  readonly secretHash?: string
  readonly public: boolean
  readonly name?: string
  readonly grantTypes: readonly GrantType[]
  readonly scopes: readonly string[]
  /** Allowed `aud` values; the first is the default. */
  readonly audiences: readonly string[]
  readonly redirectUris: readonly string[]
  readonly allowedOrigins: readonly string[]
  /** RFC 9449 §5.2: every token request of this client must carry a DPoP proof. */
  readonly dpopBoundAccessTokens?: boolean
  /**
   * RFC 8693: which tokens this client may exchange (those addressed to one of `subjectAudiences`, its own API) and
   * for which audiences (the services it calls). Present exactly when the client has the token-exchange grant.
   */
  readonly tokenExchange?: TokenExchangePolicy
  /** OIDC RP-Initiated Logout: where `/oauth/logout` may send the browser afterwards (exact match). */
  readonly postLogoutRedirectUris?: readonly string[]
  /**
   * RFC 7592: keyed hash of the registration access token a dynamically registered client manages itself with.
   * Absent for clients created any other way.
   */
  readonly registrationTokenHash?: string
  /** The `alg` of this client's ID tokens, when it registered one other than RS256. */
  readonly idTokenSignedResponseAlg?: SigningAlgorithm
  /**
   * RFC 7591 `token_endpoint_auth_method`: the one way this client may authenticate. Absent: any way it has
   * credentials for (its secret, its keys, its platform identities).
   */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod
  /** Public keys its `private_key_jwt` assertions are signed with (RFC 7591 `jwks`): public members only. */
  readonly jwks?: { readonly keys: readonly Readonly<Record<string, unknown>>[] }
  /** Where it publishes those keys instead (RFC 7591 `jwks_uri`). */
  readonly jwksUri?: string
  /** Platform identities whose tokens authenticate it (workload identity federation). */
  readonly federatedIdentities?: readonly FederatedIdentity[]
  /** RFC 9126 §6: this client's authorization requests must be pushed first. */
  readonly requirePushedAuthorizationRequests?: boolean
  readonly createdAt: number
  /** When it last changed (epoch ms): its version for conditional writes. Absent until the first change. */
  readonly updatedAt?: number
}

/** How a client authenticates at the token, introspection and revocation endpoints (RFC 7591 §2). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none'

/** A workload's identity on its platform: the token issuer (`iss`) and the subject it names (`sub`). */
export interface FederatedIdentity {
  readonly issuer: string
  readonly subject: string
}

export interface TokenExchangePolicy {
  readonly subjectAudiences: readonly string[]
  readonly audiences: readonly string[]
}

/** Starting a session (a refresh-token family) at login. */
export interface NewSession {
  readonly sub: string
  readonly fid: string
  /** The session's public id (`sid`): indexed so an administrator can end the session by it alone. */
  readonly sid?: string
  readonly tokenHash: string
  readonly clientId: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  /** Seconds since the epoch. */
  readonly authTime: number
  readonly userAgent?: string
  readonly now: number
  readonly idleTtlMs: number
  readonly absoluteTtlMs: number
  /** The DPoP key (thumbprint) the session's refresh tokens are bound to: refreshed only with proofs by it. */
  readonly jkt?: string
  /** See {@link RotateRequest.deadline}. */
  readonly deadline?: number
}

/** One refresh, as the store sees it. */
export interface RotateRequest {
  readonly sub: string
  readonly fid: string
  readonly presentedHash: string
  readonly successorHash: string
  /** The successor's secret sealed under the presented token. */
  readonly sealedSuccessor: string
  readonly clientId: string
  readonly now: number
  readonly idleTtlMs: number
  readonly graceMs: number
  /** A narrower scope for this access token; must be a subset of the session's. */
  readonly scope?: readonly string[]
  readonly audience?: readonly string[]
  /** The thumbprint of the DPoP proof's key, when the request had one: a bound session needs its own key. */
  readonly jkt?: string
  /**
   * Wall-clock epoch ms after which the store must not apply this write: a caller that has given up waiting (and
   * answered 503) must find nothing changed, however late a stalled backend gets to the command. The Redis store
   * sets one from its command timeout when none is given.
   */
  readonly deadline?: number
}

/** What a refresh needs to mint tokens: the session's grant and the user's current claims. */
export interface RefreshedSession {
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  readonly authTime: number
  /** When the family now expires (ms). */
  readonly expiresAt: number
  readonly user: Pick<UserRecord, 'sub' | 'username' | 'roles' | 'name' | 'email' | 'emailVerified' | 'picture'>
}

export type RotateResult =
  | { readonly outcome: 'rotated'; readonly session: RefreshedSession }
  | {
      readonly outcome: 'replay'
      readonly sealedSuccessor: string
      /** Hash of the family's current token: the unsealed successor must match it. */
      readonly currentHash: string
      readonly session: RefreshedSession
    }
  | { readonly outcome: 'reuse'; readonly clientId: string }
  /** `wrong_key`: the session is DPoP-bound and the request had no proof by its key; nothing changed. */
  | {
      readonly outcome: 'invalid' | 'wrong_client' | 'disabled' | 'invalid_scope' | 'invalid_target' | 'wrong_key'
    }

/** A live session as listed to its user (never token material). */
export interface SessionInfo {
  readonly fid: string
  readonly clientId: string
  readonly createdAt: number
  readonly lastUsedAt: number
  readonly userAgent?: string
  readonly expiresAt: number
  readonly scope: readonly string[]
}

/** What introspection may say about a live refresh token. */
export interface RefreshTokenInfo {
  readonly clientId: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  readonly createdAt: number
  readonly expiresAt: number
}

/** What an authorization code stands for, kept until it is redeemed or expires. */
export interface AuthorizationCode {
  readonly clientId: string
  readonly redirectUri: string
  readonly codeChallenge: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  readonly sub: string
  /** Seconds since the epoch. */
  readonly authTime: number
  readonly nonce?: string
  /** Chosen at authorization, so a reused code can revoke exactly what it issued. */
  readonly fid: string
  readonly jti: string
  /** RFC 9449 §10 `dpop_jkt`: only a token request with a proof by this key may redeem the code. */
  readonly dpopJkt?: string
}

export type RedeemResult =
  | { readonly outcome: 'ok' | 'reused'; readonly code: AuthorizationCode }
  | { readonly outcome: 'invalid' }
  /** The code was issued to another client: nothing changed, so only its rightful owner can spend it. */
  | { readonly outcome: 'wrong_client' }
  /** The code is bound to a DPoP key (`dpop_jkt`) the request did not prove: nothing changed. */
  | { readonly outcome: 'wrong_key' }

/** RFC 9126: an authorization request a client pushed, kept until it is used once or expires. */
export interface PushedRequest {
  readonly clientId: string
  /** The request's parameters, as pushed (validated then, validated again when used). */
  readonly params: Readonly<Record<string, string | readonly string[]>>
}

/** RFC 8628: what a device authorization stands for, from the request until its code is redeemed or expires. */
export interface DeviceAuthorization {
  readonly clientId: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  /** The user code, normalised (upper case, no separator). */
  readonly userCode: string
  /** When the codes stop working (epoch ms): polls after it are `expired`. */
  readonly expiresAt: number
  /** The polling interval the client was told (seconds); raised by 5 at each `slow_down`. */
  readonly intervalSec: number
}

/** The user's answer on the verification page. */
export type DeviceDecision =
  | { readonly approved: true; readonly sub: string; readonly authTime: number }
  | { readonly approved: false }

/** A device polling the token endpoint (RFC 8628 §3.5). */
export type DevicePoll =
  | { readonly outcome: 'pending' | 'expired' | 'denied' | 'invalid' }
  | { readonly outcome: 'slow_down'; readonly intervalSec: number }
  | {
      readonly outcome: 'approved'
      readonly authorization: DeviceAuthorization
      readonly sub: string
      readonly authTime: number
    }

/** Failed authentications counted against one subject (a username, a client IP). */
export interface FailureState {
  readonly count: number
  /** Last failure, epoch ms (0 when none). */
  readonly last: number
  /** Locked until this time, epoch ms (0 when not locked). */
  readonly lockedUntil: number
}

export interface FailurePolicy {
  readonly windowMs: number
  /** Failures within the window that lock the subject; 0 = never. */
  readonly maxFailures: number
  readonly lockoutMs: number
}

/** One request counted against a rate limit: how many in the current window, and when the window ends. */
export interface RateCount {
  readonly count: number
  /** Milliseconds until the window resets. */
  readonly ttlMs: number
}

/** Why a session ended (a SET's `reason_admin`, a log field). */
export type SessionEndReason = 'logout' | 'user' | 'revoked' | 'reuse' | 'code_reuse' | 'disabled' | 'admin'

/**
 * Something that ended, as the revocation log records it: opaque identifiers and times only, never token material
 * or personal data. `at` is when it happened and `until` when no token it covers can still be valid (both epoch ms).
 */
export type Revocation =
  | { readonly kind: 'session'; readonly sid: string; readonly sub: string; readonly reason: SessionEndReason }
  /** Every token of the user issued at or before `at` (the user was disabled). */
  | { readonly kind: 'user'; readonly sub: string }
  | { readonly kind: 'token'; readonly jti: string; readonly sub: string }
  /** Every token issued to the client at or before `at` (the client was removed). */
  | { readonly kind: 'client'; readonly clientId: string }

export type RevocationRecord = Revocation & { readonly at: number; readonly until: number }

/** One entry of the revocation log; `id` orders the log and is a follower's cursor. */
export interface RevocationEntry {
  readonly id: string
  readonly revocation: RevocationRecord
}

/** What the store knows about the things a token names. */
export interface RevocationState {
  readonly token: boolean
  readonly session: boolean
  /** When the user's tokens were last revoked as a whole (epoch ms), if within the window. */
  readonly userAt?: number
  readonly clientAt?: number
}

/** A username belongs to another user. */
export class UsernameTakenError extends TollgateError {
  constructor(username: string) {
    super('ERR_USERNAME_TAKEN', `username "${username}" is taken`)
  }
}

/** Usernames compare case-insensitively and after Unicode normalisation. */
export function normalizeUsername(username: string): string {
  return username.normalize('NFKC').toLowerCase()
}

/**
 * Every piece of shared state. Methods reject with StoreUnavailableError when
 * the backend cannot be reached in time.
 */
export interface Store {
  readonly kind: 'memory' | 'redis' | 'redis-cluster'
  /** Resolves when the backend answers. */
  ping(): Promise<void>
  close(): Promise<void>
  /**
   * Writes the store's marker when it is missing. False means the marker was gone: a store that held data has come
   * back empty (Redis restarted without persistence, a promoted empty replica) and it was written again.
   */
  ensureMarker(): Promise<boolean>
  /**
   * Stores that reconnect (Redis) refuse every call (StoreUnavailableError) from a lost connection until `check` —
   * which may use the store — has resolved against the reconnected backend, retrying it until it does. The server
   * checks the marker and re-applies the bootstrap file there, so nothing is served from a Redis that came back empty.
   */
  holdAfterReconnect?(check: () => Promise<void>): void

  /**
   * Creates or replaces a user (by `sub`), keeping the username index unique. `options.audit` is written with it
   * (`ifMatch` is for {@link updateUser}).
   */
  putUser(user: UserRecord, options?: WriteOptions): Promise<void>
  /**
   * Changes an existing user whose username stays the same, conditionally (`options.ifMatch`: its version), with
   * its audit event in the same step where the backend allows. Rejects with WriteConflictError (`missing`, `stale`).
   */
  updateUser(user: UserRecord, options?: WriteOptions): Promise<void>
  /** Deletes a user and its username; rejects with WriteConflictError (`missing`, `stale`). */
  removeUser(sub: string, options?: WriteOptions): Promise<void>
  getUser(sub: string): Promise<UserRecord | undefined>
  findUserByUsername(username: string): Promise<UserRecord | undefined>
  listUsers(): Promise<UserRecord[]>

  /** Creates or replaces a client; conditional with `options.ifMatch` (rejects with WriteConflictError). */
  putClient(client: ClientRecord, options?: WriteOptions): Promise<void>
  getClient(clientId: string): Promise<ClientRecord | undefined>
  listClients(): Promise<ClientRecord[]>
  /** True when a client was removed; conditional with `options.ifMatch` (rejects with WriteConflictError). */
  removeClient(clientId: string, options?: WriteOptions): Promise<boolean>

  /** Starts a session; resolves only once the store has accepted it. Returns its expiry (ms). */
  createSession(session: NewSession): Promise<number>
  /** Atomically checks, spends and replaces a refresh token, or detects reuse and revokes the family. */
  rotateRefresh(request: RotateRequest): Promise<RotateResult>
  /** The family's state when `tokenHash` is its current token, for introspection. */
  inspectRefresh(sub: string, fid: string, tokenHash: string): Promise<RefreshTokenInfo | undefined>
  /** Ends one session; true when it was live. */
  revokeSession(sub: string, fid: string): Promise<boolean>
  /** Ends every session of a user; the number ended. */
  revokeUserSessions(sub: string): Promise<number>
  /** The user's live sessions, oldest first. */
  listSessions(sub: string, now: number): Promise<SessionInfo[]>
  /** A live session by its public id (`sid`), whoever's it is. */
  findSession(sid: string, now: number): Promise<{ sub: string; session: SessionInfo } | undefined>

  /** Stores an authorization code (by its hash) until `expiresAt` (epoch ms). */
  putCode(codeHash: string, code: AuthorizationCode, expiresAt: number): Promise<void>
  /**
   * Redeems a code once, for the client it was issued to; its later redemptions report `reused`, another client's
   * `wrong_client` (and change nothing). `deadline`: as {@link RotateRequest.deadline}.
   */
  redeemCode(codeHash: string, clientId: string, deadline?: number, jkt?: string): Promise<RedeemResult>

  /** Keeps a pushed authorization request (RFC 9126) under `id` until `expiresAt` (epoch ms). */
  putPushedRequest(id: string, request: PushedRequest, expiresAt: number): Promise<void>
  /**
   * Takes a pushed request once: returns and deletes it when it belongs to `clientId` and has not expired; another
   * client's attempt gets nothing and changes nothing. `deadline`: as {@link RotateRequest.deadline}.
   */
  takePushedRequest(id: string, clientId: string, deadline?: number): Promise<PushedRequest | undefined>

  /**
   * Starts a device authorization (RFC 8628) under the device code's hash, findable by its user code until it
   * expires; kept (answering `expired`) until `keepUntil`. False when the user code is already in use (pick another).
   */
  createDeviceAuthorization(
    deviceCodeHash: string,
    authorization: DeviceAuthorization,
    keepUntil: number,
  ): Promise<boolean>
  /** The pending, unexpired authorization a user code names. */
  deviceByUserCode(userCode: string): Promise<DeviceAuthorization | undefined>
  /** Records the user's decision on a pending, unexpired authorization; false when it was not pending any more. */
  decideDevice(userCode: string, decision: DeviceDecision): Promise<boolean>
  /**
   * One poll by the device: `slow_down` (interval raised by 5 s) when it polls faster than its interval, else the
   * authorization's state; `approved` exactly once (the code is spent), `invalid` afterwards and for another client.
   */
  pollDevice(deviceCodeHash: string, clientId: string, now: number, deadline?: number): Promise<DevicePoll>

  /** Remembers a DPoP proof id for `ttlMs`; false when it was already there (a replayed proof, on any instance). */
  claimProofId(id: string, ttlMs: number): Promise<boolean>
  /**
   * Remembers a client assertion (`client_id` and `jti`) until `ttlMs` from now, its expiry; false when it was
   * already there (RFC 7523 §3: a `jti` is accepted once, on any instance).
   */
  claimAssertionId(id: string, ttlMs: number): Promise<boolean>

  /** Counts a failed authentication; locks the subject when the policy says so. */
  recordFailure(key: string, now: number, policy: FailurePolicy): Promise<FailureState>
  /** The subject's current failures (forgotten once the window has passed and no lock holds). */
  failureState(key: string, now: number, windowMs: number): Promise<FailureState>
  /** Forgets a subject's failures (a successful login). */
  clearFailures(key: string): Promise<void>

  /** Counts one request against `key` in a fixed window of `windowMs` (the token endpoint's rate limit). */
  countRequest(key: string, windowMs: number): Promise<RateCount>

  /**
   * Records that something ended: its denial (read by {@link revocationState} until `until`), its entry in the
   * revocation log and its audit event, atomically. Returns the entry's id. The log keeps entries for `retentionMs`
   * (the longest any token it can cover lives) and no longer.
   */
  recordRevocation(revocation: RevocationRecord, retentionMs: number, audit?: AuditWrite): Promise<string>
  /** Whether the token's `jti`, its session, its user or its client was revoked. */
  revocationState(names: {
    readonly jti: string
    readonly sid?: string
    readonly sub: string
    readonly clientId: string
  }): Promise<RevocationState>
  /** Log entries after `after` (from the oldest retained when undefined), oldest first, at most `limit`. */
  readRevocations(after: string | undefined, limit: number): Promise<RevocationEntry[]>
  /**
   * Calls `onEntries` with every entry after `after` (every entry of the log when undefined): those already there,
   * then each as it is appended (by any instance), until stopped. Entries are delivered in log order, each once.
   */
  followRevocations(after: string | undefined, onEntries: (entries: RevocationEntry[]) => void): { stop(): void }

  /**
   * Appends an audit event; returns its id, which orders the log by the event's time (never before the newest
   * entry). Entries older than the retention (by the event's clock) are dropped.
   */
  appendAudit(record: AuditWrite): Promise<string>
  /** Audit entries in a range, oldest first (newest first with `reverse`), at most `limit`. */
  readAudit(range: AuditRange): Promise<AuditEntry[]>
  /** As {@link followRevocations}, for the audit log: every entry after `after` (all of them when undefined). */
  followAudit(after: string | undefined, onEntries: (entries: AuditEntry[]) => void): { stop(): void }

  /** Stores an initial access token until it expires. */
  putInitialAccessToken(token: InitialAccessTokenRecord, options?: WriteOptions): Promise<void>
  /** A live (unexpired, not used up) initial access token. */
  getInitialAccessToken(id: string, now: number): Promise<InitialAccessTokenRecord | undefined>
  /** Spends one use, atomically; the uses left after it, or `undefined` when the token was gone or used up. */
  useInitialAccessToken(id: string, now: number): Promise<number | undefined>
  /** Every live initial access token, newest first. */
  listInitialAccessTokens(now: number): Promise<InitialAccessTokenRecord[]>
  /** True when a token was removed. */
  removeInitialAccessToken(id: string, options?: WriteOptions): Promise<boolean>
}
