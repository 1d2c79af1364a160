// Pushed authorization requests (RFC 9126) and device authorizations (RFC 8628) in process memory: the same
// semantics as the Redis scripts, for the in-memory store.
import type { DeviceAuthorization, DeviceDecision, DevicePoll, PushedRequest } from '../types.js'

interface DeviceEntry {
  authorization: DeviceAuthorization
  keepUntil: number
  status: 'pending' | 'approved' | 'denied' | 'spent'
  sub?: string
  authTime?: number
  lastPoll: number
  intervalSec: number
}

const clone = <T>(value: T): T => structuredClone(value)

/**
 * @example
 * const authorizations = new MemoryAuthorizations(Date.now)
 * await authorizations.putPushedRequest(id, { clientId, params }, Date.now() + 60_000)
 */
export class MemoryAuthorizations {
  readonly #now: () => number
  readonly #pushed = new Map<string, { request: PushedRequest; expiresAt: number }>()
  readonly #devices = new Map<string, DeviceEntry>()
  /** user code → device code hash */
  readonly #userCodes = new Map<string, string>()

  constructor(now: () => number) {
    this.#now = now
  }

  async putPushedRequest(id: string, request: PushedRequest, expiresAt: number): Promise<void> {
    this.#pushed.set(id, { request: clone(request), expiresAt })
  }

  async takePushedRequest(id: string, clientId: string): Promise<PushedRequest | undefined> {
    const entry = this.#pushed.get(id)
    if (!entry || entry.request.clientId !== clientId) return undefined
    this.#pushed.delete(id)
    return entry.expiresAt > this.#now() ? clone(entry.request) : undefined
  }

  async createDeviceAuthorization(hash: string, authorization: DeviceAuthorization, keepUntil: number) {
    const taken = this.#userCodes.get(authorization.userCode)
    if (taken !== undefined && (this.#devices.get(taken)?.authorization.expiresAt ?? 0) > this.#now()) return false
    this.#userCodes.set(authorization.userCode, hash)
    this.#devices.set(hash, {
      authorization: clone(authorization),
      keepUntil,
      status: 'pending',
      lastPoll: 0,
      intervalSec: authorization.intervalSec,
    })
    return true
  }

  #pendingByUserCode(userCode: string): DeviceEntry | undefined {
    const hash = this.#userCodes.get(userCode)
    const entry = hash === undefined ? undefined : this.#devices.get(hash)
    if (!entry || entry.status !== 'pending' || entry.authorization.expiresAt <= this.#now()) return undefined
    return entry
  }

  async deviceByUserCode(userCode: string): Promise<DeviceAuthorization | undefined> {
    const entry = this.#pendingByUserCode(userCode)
    return entry && clone(entry.authorization)
  }

  async decideDevice(userCode: string, decision: DeviceDecision): Promise<boolean> {
    const entry = this.#pendingByUserCode(userCode)
    if (!entry) return false
    if (decision.approved) {
      entry.status = 'approved'
      entry.sub = decision.sub
      entry.authTime = decision.authTime
    } else {
      entry.status = 'denied'
    }
    return true
  }

  async pollDevice(hash: string, clientId: string, now: number): Promise<DevicePoll> {
    const entry = this.#devices.get(hash)
    if (!entry || entry.keepUntil <= now || entry.authorization.clientId !== clientId) return { outcome: 'invalid' }
    if (entry.status === 'spent') return { outcome: 'invalid' }
    if (entry.authorization.expiresAt <= now) return { outcome: 'expired' }
    const tooSoon = now - entry.lastPoll < entry.intervalSec * 1000
    entry.lastPoll = now
    if (tooSoon) {
      entry.intervalSec += 5
      return { outcome: 'slow_down', intervalSec: entry.intervalSec }
    }
    if (entry.status === 'pending') return { outcome: 'pending' }
    if (entry.status === 'denied') return { outcome: 'denied' }
    entry.status = 'spent'
    return {
      outcome: 'approved',
      authorization: clone(entry.authorization),
      sub: entry.sub as string,
      authTime: entry.authTime as number,
    }
  }

  /** Forgets what has passed its time. */
  sweep(now: number): void {
    for (const [id, entry] of this.#pushed) if (entry.expiresAt <= now) this.#pushed.delete(id)
    for (const [hash, entry] of this.#devices) {
      if (entry.keepUntil <= now) {
        this.#devices.delete(hash)
        if (this.#userCodes.get(entry.authorization.userCode) === hash)
          this.#userCodes.delete(entry.authorization.userCode)
      }
    }
  }

  reset(): void {
    this.#pushed.clear()
    this.#devices.clear()
    this.#userCodes.clear()
  }
}
