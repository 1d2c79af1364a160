// Checks a username and password; every failure looks and costs the same.
import { InvalidGrant } from '../errors.js'
import type { Store, UserRecord } from '../store/types.js'
import { verifyPassword } from './passwords.js'

/** The one answer for an unknown user, a wrong password or a disabled account. */
export const BAD_CREDENTIALS = 'invalid username or password'

/**
 * The user for these credentials, or `invalid_grant` with a message that does
 * not reveal whether the username exists. Upgrades outdated password hashes.
 *
 * @example
 * const user = await authenticateUser(store, username, password)
 */
export async function authenticateUser(
  store: Store,
  username: string,
  password: string,
  now = Date.now,
): Promise<UserRecord> {
  const user = username.length <= 256 ? await store.findUserByUsername(username) : undefined
  const check = await verifyPassword(user?.passwordHash, password)
  if (!user || !check.ok || user.disabled) throw new InvalidGrant(BAD_CREDENTIALS)
  if (check.rehash) {
    const upgraded = { ...user, passwordHash: check.rehash, updatedAt: now() }
    await store.putUser(upgraded).catch(() => {})
    return upgraded
  }
  return user
}
