// BOOTSTRAP_FILE: clients (and, for development, users) upserted at every start; the demo seed for zero-setup mode.

import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { type SigningAlgorithm, TollgateError } from '@tollgate/shared'
import { type ClientInput, clientRecord } from './clients/client.js'
import { CONSOLE_CLIENT_ID, reservedId } from './clients/console-client.js'
import { generateSecret, type SecretHasher } from './clients/secrets.js'
import {
  type TrustedIssuer,
  type TrustedIssuerInput,
  trustedIssuers as trustedIssuerList,
} from './clients/trusted-issuers.js'
import type { Profile } from './profile/fapi2.js'
import { type Resource, type ResourceInput, resources as resourceList } from './resources.js'
import { type Store, UsernameTakenError } from './store/types.js'
import { type UserInput, userRecord } from './users/user.js'

export interface BootstrapDocument {
  clients?: ClientInput[]
  users?: UserInput[]
  /** What each audience asks of its tokens (the access-token signing algorithm). */
  resources?: ResourceInput[]
  /** Platforms whose tokens identify workloads (workload identity federation). */
  trusted_issuers?: TrustedIssuerInput[]
}

/** Every top-level field of a bootstrap document: anything else is a typo that must not silently drop a setting. */
const FIELDS = new Set(['clients', 'users', 'resources', 'trusted_issuers'])

/** What a bootstrap document is checked against: the server's configuration. */
export interface BootstrapOptions {
  /** SIGNING_ALGS. Default RS256 only. */
  readonly signingAlgs?: readonly SigningAlgorithm[]
  /** ACCESS_TOKEN_SIGNING_ALG: the algorithm of a resource that names none. Default RS256. */
  readonly accessTokenSigningAlg?: SigningAlgorithm
  /** PROFILE: under `fapi2`, a client that cannot meet the FAPI 2.0 profile stops startup, named. */
  readonly profile?: Profile
}

/** The bootstrap file cannot be used; names the file and the entry. */
export class BootstrapError extends TollgateError {
  constructor(message: string) {
    super('ERR_BOOTSTRAP', message)
  }
}

/**
 * Upserts every client and user of a bootstrap document and returns its resources, everything checked first (nothing
 * is written when any entry is wrong).
 */
export async function applyBootstrap(
  doc: BootstrapDocument,
  store: Store,
  hasher: SecretHasher,
  now: number,
  options: BootstrapOptions = {},
): Promise<{ clients: number; users: number; resources: Resource[]; trustedIssuers: TrustedIssuer[] }> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BootstrapError('must be a JSON object')
  const unknown = Object.keys(doc).find((field) => !FIELDS.has(field))
  if (unknown !== undefined) {
    throw new BootstrapError(`unknown field "${unknown}" (expected clients, users, resources, trusted_issuers)`)
  }
  const clients = doc.clients ?? []
  const users = doc.users ?? []
  if (!Array.isArray(clients) || !Array.isArray(users)) throw new BootstrapError('"clients" and "users" must be arrays')
  const reserved = clients.find((c) => c?.client_id === CONSOLE_CLIENT_ID)
  if (reserved) throw new BootstrapError(reservedId().message)
  const signingAlgs = options.signingAlgs ?? ['RS256']
  const resources = resourceList(doc.resources, signingAlgs, options.accessTokenSigningAlg ?? 'RS256')
  const trustedIssuers = trustedIssuerList(doc.trusted_issuers)
  const trusted = new Set(trustedIssuers.map((t) => t.issuer))
  const records = clients.map((c) =>
    clientRecord(c, hasher, now, {
      signingAlgs,
      trustedIssuers: trusted,
      ...(options.profile ? { profile: options.profile } : {}),
    }),
  )
  // One platform identity is one client: two clients listing it would leave a platform token ambiguous.
  const owners = new Map<string, string>()
  for (const record of records) {
    for (const { issuer, subject } of record.federatedIdentities ?? []) {
      const other = owners.get(`${issuer}\n${subject}`)
      if (other !== undefined) {
        throw new BootstrapError(`clients ${other} and ${record.clientId} both list ${subject} of ${issuer}`)
      }
      owners.set(`${issuer}\n${subject}`, record.clientId)
    }
  }
  for (const record of records) {
    const existing = await store.getClient(record.clientId)
    // A rewritten client is a new version: an administrator's stale ETag must not match it.
    await store.putClient(
      existing
        ? {
            ...record,
            createdAt: existing.createdAt,
            updatedAt: Math.max(now, (existing.updatedAt ?? existing.createdAt) + 1),
          }
        : record,
    )
  }
  for (const input of users) {
    const existing = typeof input?.username === 'string' ? await store.findUserByUsername(input.username) : undefined
    const record = await userRecord(input, existing, now)
    try {
      await store.putUser(record)
    } catch (err) {
      // Another instance starting at the same moment created this user first: update theirs.
      if (!(err instanceof UsernameTakenError)) throw err
      let winner = await store.findUserByUsername(input.username)
      for (let i = 0; !winner && i < 40; i++) {
        // The other instance has claimed the name but not yet written the record.
        await new Promise((resolve) => setTimeout(resolve, 50))
        winner = await store.findUserByUsername(input.username)
      }
      if (!winner) throw err
      await store.putUser({ ...record, sub: winner.sub, createdAt: winner.createdAt })
    }
  }
  return { clients: records.length, users: users.length, resources, trustedIssuers }
}

/** Reads and parses BOOTSTRAP_FILE (not yet validated: {@link applyBootstrap} does that). */
export async function readBootstrapFile(file: string): Promise<BootstrapDocument> {
  return (await readJsonFile(file, (message) => new BootstrapError(message))) as BootstrapDocument
}

/**
 * Reads a JSON file; a mistake is one line naming the file and, for bad JSON, the line and column
 * (`bootstrap.json:4:7: not valid JSON (Expected double-quoted property name)`).
 */
export async function readJsonFile(file: string, error: (message: string) => Error): Promise<unknown> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw error(`${file}: ${code === 'ENOENT' ? 'file not found' : `cannot be read (${code})`}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    const message = (err as Error).message
    const at = /at position (\d+)/.exec(message)
    const offset = at ? Number(at[1]) : text.length
    const before = text.slice(0, offset).split('\n')
    const reason = message
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/^Unexpected end of JSON input$/, 'unexpected end of file')
    throw error(`${file}:${before.length}:${(before.at(-1)?.length ?? 0) + 1}: not valid JSON (${reason})`)
  }
}

/** Reads BOOTSTRAP_FILE and applies it; returns the counts, the resources and the document applied. */
export async function loadBootstrapFile(
  file: string,
  store: Store,
  hasher: SecretHasher,
  now: number,
  options: BootstrapOptions = {},
) {
  const doc = await readBootstrapFile(file)
  try {
    return { ...(await applyBootstrap(doc, store, hasher, now, options)), doc }
  } catch (err) {
    if (err instanceof TollgateError) {
      throw new BootstrapError(`${file}: ${err.message}`)
    }
    throw err
  }
}

/** The clients and users of an applied document that the store no longer has (`client x`, `user y`). */
export async function missingBootstrapRecords(doc: BootstrapDocument, store: Store): Promise<string[]> {
  const clients = (doc.clients ?? []).map((c) => c.client_id)
  const users = (doc.users ?? []).map((u) => u.username)
  const [clientHits, userHits] = await Promise.all([
    Promise.all(clients.map((id) => store.getClient(id))),
    Promise.all(users.map((name) => store.findUserByUsername(name))),
  ])
  return [
    ...clients.filter((_, i) => clientHits[i] === undefined).map((id) => `client ${id}`),
    ...users.filter((_, i) => userHits[i] === undefined).map((name) => `user ${name}`),
  ]
}

export interface DemoSeed {
  readonly service: { clientId: string; clientSecret: string }
  readonly web: { clientId: string }
  readonly user: { username: string; password: string }
  readonly audience: string
}

/**
 * Seeds a demo service client, a public web client and a demo user with fresh
 * random credentials. Only for the in-memory store without a bootstrap file.
 */
export async function seedDemo(
  store: Store,
  hasher: SecretHasher,
  now: number,
  urls: { audience: string; webOrigin: string } = {
    audience: 'http://localhost:3001',
    webOrigin: 'http://localhost:3002',
  },
): Promise<DemoSeed> {
  const { audience, webOrigin } = urls
  const clientSecret = generateSecret()
  const password = randomBytes(12).toString('base64url')
  const doc: BootstrapDocument = {
    clients: [
      {
        client_id: 'demo-service',
        client_secret: clientSecret,
        name: 'Demo service (client_credentials)',
        grant_types: ['client_credentials'],
        scopes: ['notes:read', 'notes:write'],
        audiences: [audience],
      },
      {
        client_id: 'demo-web',
        public: true,
        name: 'Demo web app',
        grant_types: ['password', 'refresh_token', 'authorization_code'],
        scopes: ['openid', 'profile', 'email', 'notes:read', 'notes:write'],
        audiences: [audience],
        redirect_uris: [`${webOrigin}/callback`],
        post_logout_redirect_uris: [`${webOrigin}/`],
        allowed_origins: [webOrigin],
      },
    ],
    users: [
      {
        username: 'demo',
        password,
        email: 'demo@example.com',
        email_verified: true,
        name: 'Demo User',
        roles: ['user'],
      },
    ],
  }
  await applyBootstrap(doc, store, hasher, now)
  return {
    service: { clientId: 'demo-service', clientSecret },
    web: { clientId: 'demo-web' },
    user: { username: 'demo', password },
    audience,
  }
}
