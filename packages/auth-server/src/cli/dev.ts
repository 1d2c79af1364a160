// `tollgate dev`: the test issuer as a process, for test suites in any language. The real server on the in-memory
// store, with the clients, users, keys and lifetimes of a JSON file, and the test controls over HTTP (/_test/…).
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { algorithmOfKey, isSigningAlgorithm, type SigningAlgorithm } from '@tollgate/shared'
import { type ConfigError, env as parse } from '@tollgate/shared/service'
import type { Command } from 'commander'
import { readJsonFile } from '../bootstrap.js'
import type { ClientInput } from '../clients/client.js'
import { generateSecret } from '../clients/secrets.js'
import type { TrustedIssuerInput } from '../clients/trusted-issuers.js'
import type { ResourceInput } from '../resources.js'
import { createTestIssuer, type TestIssuer } from '../testing.js'
import type { UserInput } from '../users/user.js'
import { CliError } from './output.js'

/** The dev file: every field optional; anything else is refused by name. */
interface DevFile {
  issuer?: string
  audience?: string
  scopes?: string[]
  access_token_ttl?: number
  /** Any other server setting by its environment name (REFRESH_REUSE_GRACE, DPOP_NONCE, …). */
  env?: Record<string, string>
  /** The algorithm of access tokens (RS256, ES256 or EdDSA), as ACCESS_TOKEN_SIGNING_ALG. Default RS256. */
  algorithm?: string
  /** Every algorithm to keep keys for, as SIGNING_ALGS (RS256 and `algorithm` always). */
  signing_algs?: string[]
  /** Audiences with their own access-token algorithm, as the bootstrap file's. */
  resources?: ResourceInput[]
  /** Platforms whose tokens authenticate the clients that list them, as the bootstrap file's. */
  trusted_issuers?: TrustedIssuerInput[]
  /** A fake platform issuer (Kubernetes-style service-account tokens from /_test/platform/tokens), trusted. */
  platform?: boolean | { port?: number; alg?: string }
  /** Signing keys, in order per algorithm: RSA, P-256 or Ed25519 private JWKs or PEM strings. Generated when absent. */
  keys?: (Record<string, unknown> | string)[]
  clients?: (ClientInput & { client_secret?: string })[]
  users?: UserInput[]
  /** Start the clock here (ISO 8601) and keep it still until moved. */
  now?: string
}
const FIELDS = new Set([
  'issuer',
  'audience',
  'scopes',
  'access_token_ttl',
  'env',
  'algorithm',
  'signing_algs',
  'resources',
  'trusted_issuers',
  'platform',
  'keys',
  'clients',
  'users',
  'now',
])

/** The dev file's `platform`, checked. */
function platformOf(value: NonNullable<DevFile['platform']>): true | { port?: number; alg?: SigningAlgorithm } {
  if (value === true) return true
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError('platform: must be true or { "port"?, "alg"? }')
  }
  const unknown = Object.keys(value).find((k) => k !== 'port' && k !== 'alg')
  if (unknown !== undefined) throw new CliError(`platform: unknown field "${unknown}"`)
  if (value.port !== undefined && !(Number.isInteger(value.port) && value.port >= 0 && value.port <= 65_535)) {
    throw new CliError('platform.port: must be 0-65535')
  }
  return {
    ...(value.port === undefined ? {} : { port: value.port }),
    ...(value.alg === undefined ? {} : { alg: algorithm(value.alg, 'platform.alg') }),
  }
}

/** An algorithm named in the dev file, checked. */
function algorithm(value: unknown, field: string): SigningAlgorithm {
  if (!isSigningAlgorithm(value)) throw new CliError(`${field}: must be one of RS256, ES256, EdDSA`)
  return value
}

async function readDevFile(file: string): Promise<DevFile> {
  const doc = await readJsonFile(file, (message) => new CliError(message))
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new CliError(`${file}: must be a JSON object`)
  const unknown = Object.keys(doc).find((k) => !FIELDS.has(k))
  if (unknown !== undefined) throw new CliError(`${file}: unknown field "${unknown}"`)
  return doc as DevFile
}

function keyOf(key: Record<string, unknown> | string, index: number): KeyObject {
  try {
    const object =
      typeof key === 'string' ? createPrivateKey(key) : createPrivateKey({ key: key as never, format: 'jwk' })
    if (algorithmOfKey(object) === undefined) throw new Error('not an RSA-2048+, P-256 or Ed25519 key')
    return object
  } catch (err) {
    throw new CliError(`keys[${index}]: not a usable signing key (${(err as Error).message})`)
  }
}

export function devCommand(program: Command): void {
  program
    .command('dev')
    .description(
      'run a test issuer: the real server in memory, with test controls over HTTP for test suites in any language',
    )
    .option('--config <file>', 'clients, users, keys and lifetimes (JSON; see docs/test-issuer.md)')
    .option('--port <port>', 'listen port', '4000')
    .option('--host <host>', 'listen address (the test controls answer loopback callers only)', '127.0.0.1')
    .option('--allow-remote-controls', 'let non-loopback callers use /_test/… (inside a container)')
    .action(async (options: { config?: string; port: string; host: string; allowRemoteControls?: boolean }) => {
      const port = Number(options.port)
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new CliError('--port: must be 0-65535')
      const file = options.config ? await readDevFile(options.config) : {}
      const generated: string[] = []
      const clients = (file.clients ?? []).map((client) => {
        const keyed = client.jwks || client.jwks_uri || client.federated_identities
        if (client.public || client.client_secret !== undefined || keyed) return client
        generated.push(client.client_id)
        return { ...client, client_secret: generateSecret() }
      })
      let issuer: TestIssuer
      let logLevel: string
      try {
        logLevel = parse.oneOf(process.env, 'LOG_LEVEL', parse.LOG_LEVELS, 'warn')
      } catch (err) {
        throw new CliError((err as ConfigError).message)
      }
      try {
        issuer = await createTestIssuer({
          port,
          host: options.host,
          ...(file.issuer ? { issuer: file.issuer } : {}),
          ...(file.audience ? { audience: file.audience } : {}),
          ...(file.scopes ? { scopes: file.scopes } : {}),
          ...(file.access_token_ttl === undefined ? {} : { accessTokenTtl: file.access_token_ttl }),
          ...(file.env ? { env: file.env } : {}),
          ...(file.keys ? { keys: file.keys.map(keyOf) } : {}),
          ...(file.algorithm === undefined ? {} : { algorithm: algorithm(file.algorithm, 'algorithm') }),
          ...(file.signing_algs === undefined
            ? {}
            : { signingAlgs: [file.signing_algs].flat().map((a, i) => algorithm(a, `signing_algs[${i}]`)) }),
          ...(file.resources ? { resources: file.resources } : {}),
          ...(file.trusted_issuers ? { trustedIssuers: file.trusted_issuers } : {}),
          ...(file.platform ? { platform: platformOf(file.platform) } : {}),
          ...(file.now ? { now: new Date(file.now) } : {}),
          clients,
          users: file.users ?? [],
          controls: { allowRemote: Boolean(options.allowRemoteControls) },
          logLevel,
        })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'EADDRINUSE') throw new CliError(`port ${port} is in use: choose another with --port`)
        throw new CliError((err as Error).message)
      }
      const lines = [
        `tollgate dev: test issuer at ${issuer.url} (in memory; nothing is kept)`,
        `  discovery   ${issuer.url}/.well-known/openid-configuration`,
        `  signing     ${issuer.app.ctx.config.signingAlgs.join(', ')} (access tokens ${issuer.app.ctx.config.accessTokenSigningAlg}${(file.resources ?? []).length > 0 ? ' unless their audience asks otherwise' : ''})`,
        `  client      ${issuer.client.clientId} / ${issuer.client.clientSecret} (client_credentials, password, refresh_token; aud ${issuer.client.audience})`,
        `  client      ${issuer.keyClient.clientId} (private_key_jwt, ES256 key kid ${issuer.keyClient.kid}: its private JWK at GET /_test)`,
        ...(issuer.platform && issuer.workload
          ? [
              `  platform    ${issuer.platform.issuer} (trusted; tokens from POST /_test/platform/tokens)`,
              `  client      ${issuer.workload.clientId} (its platform token, sub ${issuer.workload.subject})`,
            ]
          : []),
        ...clients.map((c) => {
          const how = c.public
            ? ' (public)'
            : c.client_secret === undefined
              ? ` (${[c.jwks || c.jwks_uri ? 'private_key_jwt' : '', c.federated_identities ? 'platform identity' : ''].filter(Boolean).join(', ')})`
              : ` / ${generated.includes(c.client_id) ? c.client_secret : '(secret from the file)'}`
          return `  client      ${c.client_id}${how} ${c.grant_types.join(', ')}`
        }),
        ...(file.users ?? []).map((u) => `  user        ${u.username}`),
        `  controls    ${issuer.url}/_test (tokens, clock, keys/rotate, sessions/end, reset${issuer.platform ? ', platform/tokens' : ''})${options.allowRemoteControls ? '' : ', loopback only'}`,
        '',
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
      const stop = async () => {
        await issuer.close()
        process.exit(0)
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
}
