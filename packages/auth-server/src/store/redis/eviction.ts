// The eviction check: a Redis that may delete keys when memory runs short would silently lose users and sessions.
import type { Redis } from 'ioredis'
import { StoreMisconfiguredError } from '../../errors.js'
import { isTransient } from './transient.js'

/** The one eviction policy under which Redis never deletes a key it was asked to keep. */
export const NO_EVICTION = 'noeviction'

/**
 * Reads `maxmemory-policy` on every node; anything but `noeviction` is a StoreMisconfiguredError naming the node,
 * the policy and the fix. Where `CONFIG` is refused (managed Redis), `onUnreadable` is told once per call and the
 * check passes: the operator has to make sure of it.
 *
 * @example
 * await checkEvictionPolicy([redis], (reason) => log.warn({ reason }, 'cannot read maxmemory-policy'))
 */
export async function checkEvictionPolicy(nodes: readonly Redis[], onUnreadable: (reason: string) => void) {
  for (const node of nodes) {
    let policy: string | undefined
    try {
      policy = ((await node.config('GET', 'maxmemory-policy')) as string[])[1]
    } catch (err) {
      // A connection problem is not an answer; a refused command (unknown, NOPERM) is.
      if (isTransient(err) && (err as Error).name !== 'ReplyError') throw err
      onUnreadable((err as Error).message)
      return
    }
    if (policy !== undefined && policy !== NO_EVICTION) {
      const where = `${node.options.host ?? 'redis'}:${node.options.port ?? 6379}`
      throw new StoreMisconfiguredError(
        `Redis at ${where} has maxmemory-policy ${policy}, which deletes users, clients and sessions when memory runs short; set maxmemory-policy ${NO_EVICTION} (redis-cli CONFIG SET maxmemory-policy ${NO_EVICTION}, and in redis.conf)`,
      )
    }
  }
}
