// The staged key lifecycle, computed from the times in the key files: pending, active, verifying, retired. Each
// algorithm's keys are a lifecycle of their own: callers pass the keys of one algorithm.
import type { KeyInfo, KeyState, SigningKey } from './key-file.js'

/** Order of activation: the later key in this order supersedes the earlier. */
export const byActivation = (a: SigningKey, b: SigningKey): number =>
  a.activatesAt - b.activatesAt || a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0)

/**
 * When a key stops being published: at its own `retiresAt`, or `retireAfterMs` after its successor activated (the
 * longest a token it signed can live), whichever is first. `keys` is sorted {@link byActivation}.
 */
export function retiredAt(keys: readonly SigningKey[], key: SigningKey, retireAfterMs: number): number | undefined {
  const index = keys.indexOf(key)
  const successor = keys.slice(index + 1).find((k) => k.retiresAt === undefined || k.retiresAt > k.activatesAt)
  const superseded = successor ? successor.activatesAt + retireAfterMs : undefined
  if (key.retiresAt === undefined) return superseded
  return superseded === undefined ? key.retiresAt : Math.min(key.retiresAt, superseded)
}

export function isPublished(keys: readonly SigningKey[], key: SigningKey, now: number, retireAfterMs: number): boolean {
  const retired = retiredAt(keys, key, retireAfterMs)
  return retired === undefined || retired > now
}

/** Every key with its state at `now`; `signing` is the kid of the key that signs. */
export function describeKeys(
  keys: readonly SigningKey[],
  now: number,
  retireAfterMs: number,
  signing: string | undefined,
): KeyInfo[] {
  return keys.map((k) => {
    const retires = retiredAt(keys, k, retireAfterMs)
    const state: KeyState = !isPublished(keys, k, now, retireAfterMs)
      ? 'retired'
      : k.activatesAt > now
        ? 'pending'
        : k.kid === signing
          ? 'active'
          : 'verifying'
    return {
      kid: k.kid,
      alg: k.alg,
      state,
      createdAt: k.createdAt,
      activatesAt: k.activatesAt,
      ...(retires === undefined ? {} : { retiresAt: retires }),
      file: k.file,
    }
  })
}
