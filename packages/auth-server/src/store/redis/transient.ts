// Which Redis failures mean "not now" (answer 503, the client retries) rather than a bug in a command.

/**
 * Reply errors a healthy deployment answers while it is loading, failing over or out of room: a redirection that
 * ioredis could not follow (to a node that is gone), a cluster without a quorum, a replica not yet promoted, a script
 * still running, memory full under `noeviction`.
 */
const TRANSIENT_REPLY = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|BUSY|MASTERDOWN|READONLY|NOREPLICAS|OOM)\b/

/**
 * Whether an error from ioredis means Redis cannot answer right now. Connection failures (refused, reset, closed,
 * not ready, timed out, too many redirections) are never a client's fault; of the reply errors only those above are
 * transient, anything else (a wrong type, a script error) is a bug and must surface as one.
 *
 * @example
 * isTransient(new ReplyError('MOVED 3999 127.0.0.1:7002')) // true
 */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  if (err.name === 'ReplyError') return TRANSIENT_REPLY.test(err.message)
  return true
}
