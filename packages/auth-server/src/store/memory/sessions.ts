// Sessions (refresh-token families) in memory, with the same semantics as the Redis scripts.
import type {
  NewSession,
  RefreshedSession,
  RefreshTokenInfo,
  RotateRequest,
  RotateResult,
  SessionInfo,
  UserRecord,
} from '../types.js'

interface Family {
  readonly sub: string
  readonly fid: string
  readonly clientId: string
  readonly scope: readonly string[]
  readonly audience: readonly string[]
  readonly authTime: number
  readonly createdAt: number
  readonly absoluteAt: number
  readonly userAgent?: string
  readonly jkt?: string
  current: string
  previous?: string
  rotatedAt?: number
  sealed?: string
  lastUsedAt: number
  expiresAt: number
}

const subset = (requested: readonly string[] | undefined, granted: readonly string[]) =>
  requested === undefined || requested.every((item) => granted.includes(item))

/**
 * Every session of every user, indexed by user. `users` reads the current user record (rotation needs its roles
 * and whether it is disabled); `now` is the store's clock.
 */
export class MemorySessions {
  readonly #families = new Map<string, Family>()
  readonly #sessions = new Map<string, Set<string>>()
  readonly #users: (sub: string) => UserRecord | undefined
  readonly #now: () => number

  constructor(users: (sub: string) => UserRecord | undefined, now: () => number) {
    this.#users = users
    this.#now = now
  }

  /** Forgets every session (the development issuer's reset). */
  clear(): void {
    this.#families.clear()
    this.#sessions.clear()
  }

  /** Drops expired families (they are also dropped when touched). */
  sweep(now: number): void {
    for (const family of this.#families.values()) if (family.expiresAt <= now) this.#drop(family.sub, family.fid)
  }

  #family(sub: string, fid: string): Family | undefined {
    const family = this.#families.get(`${sub}/${fid}`)
    if (family && family.expiresAt <= this.#now()) {
      this.#drop(sub, fid)
      return undefined
    }
    return family
  }

  #drop(sub: string, fid: string): boolean {
    const existed = this.#families.delete(`${sub}/${fid}`)
    const index = this.#sessions.get(sub)
    index?.delete(fid)
    if (index?.size === 0) this.#sessions.delete(sub)
    return existed
  }

  createSession(session: NewSession): number {
    const absoluteAt = session.now + session.absoluteTtlMs
    const expiresAt = Math.min(session.now + session.idleTtlMs, absoluteAt)
    this.#families.set(`${session.sub}/${session.fid}`, {
      sub: session.sub,
      fid: session.fid,
      clientId: session.clientId,
      scope: [...session.scope],
      audience: [...session.audience],
      authTime: session.authTime,
      createdAt: session.now,
      absoluteAt,
      current: session.tokenHash,
      lastUsedAt: session.now,
      expiresAt,
      ...(session.userAgent ? { userAgent: session.userAgent } : {}),
      ...(session.jkt ? { jkt: session.jkt } : {}),
    })
    const index = this.#sessions.get(session.sub) ?? new Set<string>()
    index.add(session.fid)
    this.#sessions.set(session.sub, index)
    return expiresAt
  }

  rotateRefresh(request: RotateRequest): RotateResult {
    const { now } = request
    const family = this.#family(request.sub, request.fid)
    if (!family) return { outcome: 'invalid' }
    if (now >= family.absoluteAt) {
      this.#drop(request.sub, request.fid)
      return { outcome: 'invalid' }
    }
    // A bound session answers only proofs by its key — before reuse detection, so someone holding an old token but
    // not the key can neither refresh nor end the session.
    if (family.jkt !== undefined && family.jkt !== request.jkt) return { outcome: 'wrong_key' }
    const isCurrent = request.presentedHash === family.current
    const isParent =
      family.previous !== undefined &&
      request.presentedHash === family.previous &&
      now - (family.rotatedAt ?? 0) <= request.graceMs
    if (!isCurrent && !isParent) {
      this.#drop(request.sub, request.fid)
      return { outcome: 'reuse', clientId: family.clientId }
    }
    if (family.clientId !== request.clientId) return { outcome: 'wrong_client' }
    const user = this.#users(request.sub)
    if (!user || user.disabled) {
      this.#drop(request.sub, request.fid)
      return { outcome: 'disabled' }
    }
    if (!subset(request.scope, family.scope)) return { outcome: 'invalid_scope' }
    if (!subset(request.audience, family.audience)) return { outcome: 'invalid_target' }
    const expiresAt = Math.min(now + request.idleTtlMs, family.absoluteAt)
    const session: RefreshedSession = {
      scope: [...family.scope],
      audience: [...family.audience],
      authTime: family.authTime,
      expiresAt,
      user: {
        sub: user.sub,
        username: user.username,
        roles: [...user.roles],
        ...(user.name === undefined ? {} : { name: user.name }),
        ...(user.email === undefined ? {} : { email: user.email, emailVerified: user.emailVerified ?? false }),
        ...(user.picture === undefined ? {} : { picture: user.picture }),
      },
    }
    if (isParent && !isCurrent) {
      return { outcome: 'replay', sealedSuccessor: family.sealed ?? '', currentHash: family.current, session }
    }
    family.previous = family.current
    family.current = request.successorHash
    family.rotatedAt = now
    family.sealed = request.sealedSuccessor
    family.lastUsedAt = now
    family.expiresAt = expiresAt
    return { outcome: 'rotated', session }
  }

  inspectRefresh(sub: string, fid: string, tokenHash: string): RefreshTokenInfo | undefined {
    const family = this.#family(sub, fid)
    if (!family || family.current !== tokenHash) return undefined
    return {
      clientId: family.clientId,
      scope: [...family.scope],
      audience: [...family.audience],
      createdAt: family.createdAt,
      expiresAt: family.expiresAt,
    }
  }

  revokeSession(sub: string, fid: string): boolean {
    const live = this.#family(sub, fid) !== undefined
    this.#drop(sub, fid)
    return live
  }

  revokeUserSessions(sub: string): number {
    let ended = 0
    for (const fid of [...(this.#sessions.get(sub) ?? [])]) {
      if (this.#family(sub, fid)) ended++
      this.#drop(sub, fid)
    }
    return ended
  }

  listSessions(sub: string, _now: number): SessionInfo[] {
    const out: SessionInfo[] = []
    for (const fid of [...(this.#sessions.get(sub) ?? [])]) {
      const family = this.#family(sub, fid)
      if (!family) continue
      out.push({
        fid,
        clientId: family.clientId,
        createdAt: family.createdAt,
        lastUsedAt: family.lastUsedAt,
        expiresAt: family.expiresAt,
        scope: [...family.scope],
        ...(family.userAgent ? { userAgent: family.userAgent } : {}),
      })
    }
    return out.sort((a, b) => a.createdAt - b.createdAt)
  }
}
