// Pushed authorization requests (RFC 9126) and device authorizations (RFC 8628) in Redis. Every script touches one
// key, so all of it works on a Cluster: the user code only points at its device authorization.
import { StoreUnavailableError } from '../../errors.js'
import type { DeviceAuthorization, DeviceDecision, DevicePoll, PushedRequest } from '../types.js'
import type { RedisBackend } from './backend.js'
import { keys } from './codec.js'

/**
 * @example
 * const authorizations = new RedisAuthorizations(backend)
 * await authorizations.putPushedRequest(id, { clientId, params }, Date.now() + 60_000)
 */
export class RedisAuthorizations {
  readonly #backend: RedisBackend

  constructor(backend: RedisBackend) {
    this.#backend = backend
  }

  get #redis() {
    return this.#backend.redis
  }

  async putPushedRequest(id: string, request: PushedRequest, expiresAt: number): Promise<void> {
    const key = keys.pushedRequest(id)
    await this.#backend.run(async () => {
      await this.#redis
        .multi()
        .hset(key, 'c', request.clientId, 'd', JSON.stringify(request.params))
        .pexpireat(key, expiresAt)
        .exec()
    })
  }

  async takePushedRequest(id: string, clientId: string, deadline?: number): Promise<PushedRequest | undefined> {
    const [outcome, data] = await this.#backend.script<string[], 'takePushedRequest'>('takePushedRequest', {
      keys: { request: keys.pushedRequest(id) },
      args: { clientId, deadline: this.#backend.deadline(deadline) },
    })
    if (outcome === 'late') throw new StoreUnavailableError('Redis reached the pushed request after its deadline')
    return outcome === 'ok' && data ? { clientId, params: JSON.parse(data) as PushedRequest['params'] } : undefined
  }

  async createDeviceAuthorization(hash: string, authorization: DeviceAuthorization, keepUntil: number) {
    const device = keys.device(hash)
    return this.#backend.run(async () => {
      // The user code first: taken (by a live authorization) means pick another.
      const claimed = await this.#redis.set(
        keys.userCode(authorization.userCode),
        device,
        'PXAT',
        authorization.expiresAt,
        'NX',
      )
      if (claimed !== 'OK') return false
      await this.#redis
        .multi()
        .hset(device, {
          c: authorization.clientId,
          s: 'p',
          e: authorization.expiresAt,
          l: 0,
          i: authorization.intervalSec,
          d: JSON.stringify(authorization),
        })
        .pexpireat(device, keepUntil)
        .exec()
      return true
    })
  }

  /** The device key a user code points at, when its authorization is pending and unexpired; with its record. */
  async #pending(
    userCode: string,
    now: number,
  ): Promise<{ key: string; authorization: DeviceAuthorization } | undefined> {
    const key = await this.#redis.get(keys.userCode(userCode))
    if (key === null) return undefined
    const [status, expiresAt, data] = await this.#redis.hmget(key, 's', 'e', 'd')
    if (status !== 'p' || Number(expiresAt) <= now || data == null) return undefined
    return { key, authorization: JSON.parse(data) as DeviceAuthorization }
  }

  async deviceByUserCode(userCode: string, now: number): Promise<DeviceAuthorization | undefined> {
    return this.#backend.run(async () => (await this.#pending(userCode, now))?.authorization)
  }

  async decideDevice(userCode: string, decision: DeviceDecision, now: number): Promise<boolean> {
    return this.#backend.run(async () => {
      const key = await this.#redis.get(keys.userCode(userCode))
      if (key === null) return false
      const recorded = await this.#backend.script<number, 'decideDevice'>('decideDevice', {
        keys: { authorization: key },
        args: {
          now,
          approved: decision.approved ? '1' : '0',
          sub: decision.approved ? decision.sub : '',
          authTime: decision.approved ? decision.authTime : '',
        },
      })
      return Number(recorded) === 1
    })
  }

  async pollDevice(hash: string, clientId: string, now: number, deadline?: number): Promise<DevicePoll> {
    const [outcome, data, sub, authTime] = await this.#backend.script<string[], 'pollDevice'>('pollDevice', {
      keys: { authorization: keys.device(hash) },
      args: { clientId, now, deadline: this.#backend.deadline(deadline) },
    })
    switch (outcome) {
      case 'late':
        throw new StoreUnavailableError('Redis reached the device poll after its deadline')
      case 'slow_down':
        return { outcome, intervalSec: Number(data) }
      case 'approved':
        return {
          outcome,
          authorization: JSON.parse(data as string) as DeviceAuthorization,
          sub: sub as string,
          authTime: Number(authTime),
        }
      case 'pending':
      case 'expired':
      case 'denied':
        return { outcome }
      default:
        return { outcome: 'invalid' }
    }
  }
}
