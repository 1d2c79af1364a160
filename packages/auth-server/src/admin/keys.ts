// Signing keys as administrators see and rotate them (admin API and CLI): the staged lifecycle of KEYS_DIR, audited.
import type { AuditContext } from '../audit/event.js'
import type { AuditLog } from '../audit/log.js'
import { InvalidRequest } from '../errors.js'
import type { KeyInfo, Keystore } from '../keys/keystore.js'

/** The algorithms a key can be rotated for. Today every key is RS256 (`SIGNING_ALGS` adds more). */
export const KEY_ALGS = ['RS256'] as const

/** A key as the admin API shows it: `pending` (published, signs later), `active`, `verifying`, `retired`. */
export interface KeyJson {
  kid: string
  alg: string
  state: string
  /** This is the key that signs now. */
  signing: boolean
  created_at: string
  activates_at: string
  retires_at: string | null
}

const iso = (t: number) => new Date(t).toISOString()

export function keyJson(k: KeyInfo): KeyJson {
  return {
    kid: k.kid,
    alg: (k as KeyInfo & { alg?: string }).alg ?? 'RS256',
    state: k.state,
    signing: k.state === 'active',
    created_at: iso(k.createdAt),
    activates_at: iso(k.activatesAt),
    retires_at: k.retiresAt === undefined ? null : iso(k.retiresAt),
  }
}

/**
 * Staged rotation: a new key, published now and signing after KEY_PUBLISH_DELAY; other instances pick it up from
 * KEYS_DIR. Audited as `key.rotated`.
 *
 * @example
 * const key = await rotateKey(keystore, audit, by)
 */
export async function rotateKey(
  keystore: Pick<Keystore, 'rotate' | 'list'>,
  audit: AuditLog | undefined,
  by: AuditContext,
  alg = 'RS256',
): Promise<KeyInfo> {
  if (!(KEY_ALGS as readonly string[]).includes(alg)) {
    throw new InvalidRequest(`alg must be one of ${KEY_ALGS.join(', ')}`)
  }
  const key = await keystore.rotate()
  const info = keystore.list().find((k) => k.kid === key.kid) as KeyInfo
  await audit?.record('key.rotated', by, {
    target: { type: 'key', id: key.kid },
    details: { alg, activates_at: iso(key.activatesAt) },
  })
  return info
}
