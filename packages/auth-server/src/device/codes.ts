// RFC 8628 codes: a device code with 256 bits of randomness (kept only as a hash) and a short user code from an
// alphabet a person cannot misread (§6.1: base-20 consonants, shown as XXXX-XXXX).
import { createHash, randomBytes, randomInt } from 'node:crypto'

/** Consonants only: no vowels (no words), no look-alikes (no 0/O, 1/I/L, 5/S, 2/Z…). */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ'
const USER_CODE_LENGTH = 8

/** A new device code: 32 random bytes, base64url. */
export const newDeviceCode = (): string => randomBytes(32).toString('base64url')

/** What the store keeps of a device code. */
export const hashDeviceCode = (code: string): string => createHash('sha256').update(code).digest('base64url')

/** A new user code, normalised (8 letters of {@link USER_CODE_ALPHABET}); 20^8 ≈ 2^34.6 possibilities. */
export function newUserCode(): string {
  let code = ''
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]
  return code
}

/** How a user code is shown and typed: `BCDF-GHJK`. */
export const displayUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`

/**
 * What a person typed, as the stored code: case and separators ignored (§6.1). Undefined when it cannot be a user
 * code at all (then it is not worth a store lookup, but it still counts as a wrong guess).
 */
export function normalizeUserCode(typed: unknown): string | undefined {
  if (typeof typed !== 'string' || typed.length > 64) return undefined
  const code = typed.toUpperCase().replace(/[\s-]/g, '')
  if (code.length !== USER_CODE_LENGTH) return undefined
  for (const c of code) if (!USER_CODE_ALPHABET.includes(c)) return undefined
  return code
}
