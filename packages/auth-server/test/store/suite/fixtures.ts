// Records the store suite writes: a user and a client with every field set.
import type { ClientRecord, UserRecord } from '../../../src/store/types.js'

export const user = (overrides: Partial<UserRecord> = {}): UserRecord => ({
  sub: 'sub-alice',
  username: 'Alice',
  passwordHash: '$argon2id$fake',
  roles: ['admin'],
  disabled: false,
  createdAt: 1,
  updatedAt: 1,
  email: 'alice@example.com',
  emailVerified: true,
  name: 'Alice',
  ...overrides,
})

export const client = (overrides: Partial<ClientRecord> = {}): ClientRecord => ({
  clientId: 'orders',
  secretHash: 'hmac-sha256$x',
  public: false,
  grantTypes: ['client_credentials'],
  scopes: ['inventory:read'],
  audiences: ['https://inventory.internal'],
  redirectUris: [],
  allowedOrigins: [],
  createdAt: 1,
  ...overrides,
})
