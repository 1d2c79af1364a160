// Validates user definitions (bootstrap file, CLI) into UserRecords.

import { randomUUID } from 'node:crypto'
import { TollgateError } from '@tollgate/shared'
import type { UserRecord } from '../store/types.js'
import { hashPassword, MAX_PASSWORD_LENGTH } from './passwords.js'

/** A user definition as written in the bootstrap file or given to the CLI. */
export interface UserInput {
  username: string
  password: string
  email?: string
  email_verified?: boolean
  name?: string
  picture?: string
  roles?: string[]
  disabled?: boolean
}

export class UserValidationError extends TollgateError {
  constructor(message: string) {
    super('ERR_USER_INVALID', message)
  }
}

const USERNAME = /^[\p{L}\p{N}._@+-]{1,128}$/u
export const MIN_PASSWORD_LENGTH = 8

/** Throws UserValidationError unless the password is acceptable. */
export function checkPassword(password: unknown, username = 'user'): asserts password is string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new UserValidationError(
      `${username}: password must be ${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters`,
    )
  }
}

export function checkUsername(username: unknown): asserts username is string {
  if (typeof username !== 'string' || !USERNAME.test(username)) {
    throw new UserValidationError('username must be 1-128 letters, digits or . _ @ + -')
  }
}

/**
 * A user record for this definition, hashing the password. `existing` keeps
 * the subject and creation time of a user being updated.
 *
 * @example
 * const user = await userRecord({ username: 'alice', password }, await store.findUserByUsername('alice'), Date.now())
 */
export async function userRecord(input: UserInput, existing: UserRecord | undefined, now: number): Promise<UserRecord> {
  if (typeof input !== 'object' || input === null) throw new UserValidationError('user must be an object')
  checkUsername(input.username)
  const where = (msg: string) => new UserValidationError(`user ${input.username}: ${msg}`)
  checkPassword(input.password, `user ${input.username}`)
  for (const field of ['email', 'name', 'picture'] as const) {
    const value = input[field]
    if (value !== undefined && (typeof value !== 'string' || value.length > 512))
      throw where(`${field} must be a string`)
  }
  if (input.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(input.email)) throw where('email is not an address')
  const roles = input.roles ?? []
  if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || r === ''))
    throw where('roles must be strings')
  return {
    sub: existing?.sub ?? randomUUID(),
    username: input.username,
    passwordHash: await hashPassword(input.password),
    roles: [...new Set(roles)],
    disabled: input.disabled === true,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    ...(input.email === undefined ? {} : { email: input.email, emailVerified: input.email_verified ?? false }),
    ...(input.name === undefined ? {} : { name: input.name }),
    ...(input.picture === undefined ? {} : { picture: input.picture }),
  }
}
