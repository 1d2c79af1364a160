// Signing keys as administrators see and rotate them (admin API and CLI): the staged lifecycle of KEYS_DIR, audited.

import type { SigningAlgorithm } from '@tollgate/shared'
import type { AuditContext } from '../audit/event.js'
import type { AuditLog } from '../audit/log.js'
import { InvalidRequest } from '../errors.js'
import type { KeyInfo, Keystore } from '../keys/keystore.js'

/** Every algorithm Tollgate can hold keys for; a server rotates those of its SIGNING_ALGS. */
export const KEY_ALGS = ['RS256', 'ES256', 'EdDSA'] as const

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
    alg: k.alg,
    state: k.state,
    signing: k.state === 'active',
    created_at: iso(k.createdAt),
    activates_at: iso(k.activatesAt),
    retires_at: k.retiresAt === undefined ? null : iso(k.retiresAt),
  }
}

/**
 * Staged rotation: a new key of `alg` (one of the server's SIGNING_ALGS), published now and signing after
 * KEY_PUBLISH_DELAY; other instances pick it up from KEYS_DIR. Without `alg`, one for every algorithm. Each is
 * audited as `key.rotated`.
 *
 * @example
 * const [key] = await rotateKeys(keystore, config.signingAlgs, audit, by, 'ES256')
 */
export async function rotateKeys(
  keystore: Pick<Keystore, 'rotate' | 'list'>,
  signingAlgs: readonly SigningAlgorithm[],
  audit: AuditLog | undefined,
  by: AuditContext,
  alg?: string,
): Promise<KeyInfo[]> {
  if (alg !== undefined && !(signingAlgs as readonly string[]).includes(alg)) {
    throw new InvalidRequest(`alg must be one of SIGNING_ALGS: ${signingAlgs.join(', ')}`)
  }
  const infos: KeyInfo[] = []
  for (const each of alg === undefined ? signingAlgs : [alg as SigningAlgorithm]) {
    const key = await keystore.rotate(each)
    infos.push(keystore.list().find((k) => k.kid === key.kid) as KeyInfo)
    await audit?.record('key.rotated', by, {
      target: { type: 'key', id: key.kid },
      details: { alg: each, activates_at: iso(key.activatesAt) },
    })
  }
  return infos
}
