// The revocation log and denials in memory, with the same semantics as Redis: ids `<ms>-<seq>`, kept for the
// retention, followers notified in order.
import type { RevocationEntry, RevocationRecord, RevocationState } from '../types.js'

/** The denial key of a revocation: what it names. */
export function denialKey(r: RevocationRecord): string {
  switch (r.kind) {
    case 'session':
      return `sid:${r.sid}`
    case 'user':
      return `sub:${r.sub}`
    case 'token':
      return `jti:${r.jti}`
    case 'client':
      return `client:${r.clientId}`
  }
}

/** Compares two log ids (`<ms>-<seq>`). */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number)
  const [bm = 0, bs = 0] = b.split('-').map(Number)
  return am - bm || as - bs
}

export class MemoryRevocations {
  readonly #now: () => number
  readonly #denials = new Map<string, { at: number; until: number }>()
  #entries: RevocationEntry[] = []
  readonly #followers = new Set<(entries: RevocationEntry[]) => void>()
  #last = { ms: 0, seq: 0 }

  constructor(now: () => number) {
    this.#now = now
  }

  sweep(now: number): void {
    for (const [key, denial] of this.#denials) if (denial.until <= now) this.#denials.delete(key)
  }

  record(revocation: RevocationRecord, retentionMs: number): string {
    const now = this.#now()
    const key = denialKey(revocation)
    const previous = this.#denials.get(key)
    // A later revocation of the same user or client moves its time forward; a denial never shrinks.
    this.#denials.set(key, {
      at: Math.max(previous?.at ?? 0, revocation.at),
      until: Math.max(previous?.until ?? 0, revocation.until),
    })
    const ms = Math.max(now, this.#last.ms)
    this.#last = { ms, seq: ms === this.#last.ms ? this.#last.seq + 1 : 0 }
    const id = `${this.#last.ms}-${this.#last.seq}`
    const entry = { id, revocation: structuredClone(revocation) }
    this.#entries.push(entry)
    const oldest = now - retentionMs
    this.#entries = this.#entries.filter((e) => Number(e.id.split('-')[0]) >= oldest)
    for (const follower of this.#followers) follower([entry])
    return id
  }

  state(names: { jti: string; sid?: string; sub: string; clientId: string }): RevocationState {
    const now = this.#now()
    const live = (key: string) => {
      const denial = this.#denials.get(key)
      return denial && denial.until > now ? denial : undefined
    }
    const user = live(`sub:${names.sub}`)
    const client = live(`client:${names.clientId}`)
    return {
      token: live(`jti:${names.jti}`) !== undefined,
      session: names.sid !== undefined && live(`sid:${names.sid}`) !== undefined,
      ...(user ? { userAt: user.at } : {}),
      ...(client ? { clientAt: client.at } : {}),
    }
  }

  read(after: string | undefined, limit: number, retentionMs?: number): RevocationEntry[] {
    const oldest = retentionMs === undefined ? 0 : this.#now() - retentionMs
    return this.#entries
      .filter((e) => (after === undefined || compareIds(e.id, after) > 0) && Number(e.id.split('-')[0]) >= oldest)
      .slice(0, limit)
      .map((e) => structuredClone(e))
  }

  follow(after: string | undefined, onEntries: (entries: RevocationEntry[]) => void): { stop(): void } {
    let cursor = after
    const deliver = (entries: RevocationEntry[]) => {
      const fresh = entries.filter((e) => cursor === undefined || compareIds(e.id, cursor) > 0)
      if (fresh.length === 0) return
      cursor = fresh.at(-1)?.id
      onEntries(fresh)
    }
    this.#followers.add(deliver)
    queueMicrotask(() => deliver(this.read(after, Number.MAX_SAFE_INTEGER)))
    return { stop: () => this.#followers.delete(deliver) }
  }
}
