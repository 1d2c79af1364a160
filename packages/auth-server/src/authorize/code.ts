// Authorization codes: 256 random bits, stored by hash for a short time, single use.
import { createHash, randomBytes } from 'node:crypto'

/** How long a code may wait for its exchange (RFC 6749 §4.1.2 recommends at most 10 minutes). */
export const CODE_TTL_MS = 60_000

export const newCode = (): string => randomBytes(32).toString('base64url')

export const hashCode = (code: string): string => createHash('sha256').update(code).digest('base64url')
