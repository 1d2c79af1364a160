// `tollgate clients …`: OAuth clients (services and apps).
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { createClient, deleteClient, replaceClient } from '../admin/clients.js'
import { readBootstrapFile } from '../bootstrap.js'
import type { ClientInput } from '../clients/client.js'
import { generateSecret } from '../clients/secrets.js'
import { TOKEN_EXCHANGE } from '../store/types.js'
import { adminDeps, attempt, type Context, collect, iso, operator, readStdin, withStore } from './common.js'
import { CliError } from './output.js'

export function clientsCommands(program: Command, context: Context): void {
  const clients = program.command('clients').description('OAuth clients (services and apps)')

  clients
    .command('add <client_id>')
    .description(
      'register a client; a confidential client’s secret is read from stdin with --secret-stdin, else generated and printed once (none for a client with keys or a platform identity)',
    )
    .requiredOption('--grant <grant_type>', 'an allowed grant type (repeatable)', collect)
    .requiredOption(
      '--audience <uri>',
      'a resource it may get tokens for (repeatable; the first is the default)',
      collect,
    )
    .option('--scope <scope>', 'an allowed scope (repeatable)', collect)
    .option('--redirect-uri <uri>', 'an exact redirect URI for authorization_code (repeatable)', collect)
    .option(
      '--post-logout-redirect-uri <uri>',
      'an exact URI /oauth/logout may send the browser back to (repeatable)',
      collect,
    )
    .option('--origin <origin>', 'a browser origin allowed to call the session endpoints (repeatable)', collect)
    .option(
      '--exchange-from <uri>',
      'token exchange: accept subject tokens addressed to this audience, its own API (repeatable; implies the grant)',
      collect,
    )
    .option('--exchange-to <uri>', 'token exchange: an audience it may exchange them for (repeatable)', collect)
    .option(
      '--id-token-alg <alg>',
      'id_token_signed_response_alg: the algorithm of its ID tokens (one of SIGNING_ALGS)',
    )
    .option('--jwks-uri <url>', 'private_key_jwt: where it publishes its public keys (https)')
    .option('--jwks-file <file>', 'private_key_jwt: a JWK Set file of its public keys')
    .option(
      '--federated-identity <issuer=…,subject=…>',
      'a platform identity that is this client: a trusted issuer and the subject of its tokens (repeatable)',
      collect,
    )
    .option(
      '--auth-method <method>',
      'token_endpoint_auth_method: client_secret_basic, client_secret_post or private_key_jwt (default: any it has)',
    )
    .option('--public', 'a public client (no secret: browser or native app)')
    .option('--require-par', 'its authorization requests must be pushed first (RFC 9126)')
    .option('--dpop-bound', 'every token request must carry a DPoP proof (dpop_bound_access_tokens)')
    .option('--name <name>', 'display name')
    .option('--secret-stdin', 'read the client secret from stdin')
    .option('--replace', 'replace an existing client of that id (keeps nothing of it)')
    .action(async (clientId: string, options) => {
      const { config, out } = context()
      const isPublic = Boolean(options.public)
      const jwks = options.jwksFile ? await readJwksFile(options.jwksFile) : undefined
      const identities = (options.federatedIdentity as string[] | undefined)?.map(identityOf)
      // A client with keys or a platform identity needs no secret; it gets one only when asked (--secret-stdin).
      const keyed = jwks !== undefined || options.jwksUri !== undefined || identities !== undefined
      const generated = !isPublic && !options.secretStdin && !keyed
      const secret = isPublic
        ? undefined
        : generated
          ? generateSecret()
          : options.secretStdin
            ? await readStdin()
            : undefined
      const exchanges = options.exchangeFrom !== undefined || options.exchangeTo !== undefined
      const grantTypes: string[] = options.grant
      if (exchanges && !grantTypes.includes(TOKEN_EXCHANGE)) grantTypes.push(TOKEN_EXCHANGE)
      const input: ClientInput = {
        client_id: clientId,
        grant_types: grantTypes,
        audiences: options.audience,
        ...(options.scope ? { scopes: options.scope } : {}),
        ...(options.redirectUri ? { redirect_uris: options.redirectUri } : {}),
        ...(options.origin ? { allowed_origins: options.origin } : {}),
        ...(options.postLogoutRedirectUri ? { post_logout_redirect_uris: options.postLogoutRedirectUri } : {}),
        ...(options.name ? { name: options.name } : {}),
        ...(options.idTokenAlg ? { id_token_signed_response_alg: options.idTokenAlg } : {}),
        ...(isPublic ? { public: true } : secret === undefined ? {} : { client_secret: secret }),
        ...(jwks ? { jwks } : {}),
        ...(options.jwksUri ? { jwks_uri: options.jwksUri } : {}),
        ...(identities ? { federated_identities: identities } : {}),
        ...(options.authMethod ? { token_endpoint_auth_method: options.authMethod } : {}),
        ...(options.requirePar ? { require_pushed_authorization_requests: true } : {}),
        ...(options.dpopBound ? { dpop_bound_access_tokens: true } : {}),
        ...(exchanges
          ? { token_exchange: { subject_audiences: options.exchangeFrom ?? [], audiences: options.exchangeTo ?? [] } }
          : {}),
      }
      // Platform tokens count only from the bootstrap file's trusted issuers: say so now rather than at the first 401.
      for (const issuer of await untrustedIssuers(config.bootstrapFile, identities ?? [])) {
        process.stderr.write(
          `tollgate: warning: ${issuer} is not in ${config.bootstrapFile ? "BOOTSTRAP_FILE's" : 'the bootstrap file’s (BOOTSTRAP_FILE is unset)'} trusted_issuers: its tokens are refused until it is\n`,
        )
      }
      await withStore(config, async (store) => {
        const deps = await adminDeps(config, store, true)
        const body = input as unknown as Record<string, unknown>
        const { record } = await attempt(
          options.replace && (await store.getClient(clientId))
            ? replaceClient(deps, clientId, body, operator(), undefined)
            : createClient(deps, body, operator()),
          { exists: `client "${clientId}" exists (use --replace to overwrite it)` },
        )
        out.result(
          {
            client_id: clientId,
            public: isPublic,
            grant_types: record.grantTypes,
            scopes: record.scopes,
            audiences: record.audiences,
            ...(record.tokenExchange
              ? {
                  token_exchange: {
                    subject_audiences: record.tokenExchange.subjectAudiences,
                    audiences: record.tokenExchange.audiences,
                  },
                }
              : {}),
            ...(generated ? { client_secret: secret } : {}),
            ...(record.jwks ? { jwks: record.jwks } : {}),
            ...(record.jwksUri ? { jwks_uri: record.jwksUri } : {}),
            ...(record.federatedIdentities ? { federated_identities: record.federatedIdentities } : {}),
            ...(record.tokenEndpointAuthMethod ? { token_endpoint_auth_method: record.tokenEndpointAuthMethod } : {}),
          },
          `added ${isPublic ? 'public' : 'confidential'} client ${clientId}` +
            (record.jwks || record.jwksUri ? ' (private_key_jwt)' : '') +
            (record.federatedIdentities
              ? ` (platform identities: ${record.federatedIdentities.map((f) => f.subject).join(', ')})`
              : '') +
            (generated ? `\nclient secret (shown once): ${secret}` : ''),
        )
      })
    })

  clients
    .command('list')
    .description('every client (never secrets)')
    .action(async () => {
      const { config, out } = context()
      await withStore(config, async (store) => {
        const rows = (await store.listClients())
          .sort((a, b) => a.clientId.localeCompare(b.clientId))
          .map((c) => ({
            client_id: c.clientId,
            type: c.public ? 'public' : 'confidential',
            name: c.name,
            grant_types: c.grantTypes,
            scopes: c.scopes,
            audiences: c.audiences,
            redirect_uris: c.redirectUris,
            allowed_origins: c.allowedOrigins,
            ...(c.tokenExchange
              ? { exchange_from: c.tokenExchange.subjectAudiences, exchange_to: c.tokenExchange.audiences }
              : {}),
            auth: [
              c.public ? 'none' : '',
              c.secretHash ? 'secret' : '',
              c.jwks || c.jwksUri ? 'private_key_jwt' : '',
              c.federatedIdentities ? 'platform' : '',
            ]
              .filter(Boolean)
              .join(','),
            ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
            ...(c.federatedIdentities ? { federated_identities: c.federatedIdentities } : {}),
            created: iso(c.createdAt),
          }))
        out.table(rows, ['client_id', 'type', 'auth', 'grant_types', 'scopes', 'audiences', 'created'])
      })
    })

  clients
    .command('remove <client_id>')
    .description('delete a client: its secret stops working at once (instances cache clients for up to 5 s)')
    .action(async (clientId: string) => {
      const { config, out } = context()
      await withStore(config, async (store) => {
        // Every token issued to it until now is refused, at verifiers too.
        await attempt(deleteClient(await adminDeps(config, store), clientId, operator(), undefined), {
          missing: `no client "${clientId}"`,
        })
        out.result({ client_id: clientId, removed: true }, `removed client ${clientId}`)
      })
    })
}

/** `--jwks-file`: a JWK Set (or one JWK) of public keys; the key checks are clientRecord's. */
async function readJwksFile(file: string): Promise<{ keys: Record<string, unknown>[] }> {
  let doc: unknown
  try {
    doc = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new CliError(`--jwks-file ${file}: ${code ? `cannot be read (${code})` : 'not valid JSON'}`)
  }
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && !('keys' in doc) && 'kty' in doc) {
    return { keys: [doc as Record<string, unknown>] }
  }
  return doc as { keys: Record<string, unknown>[] }
}

/** `--federated-identity issuer=…,subject=…` (the subject may itself hold commas: it takes the rest). */
function identityOf(value: string): { issuer: string; subject: string } {
  const match = /^issuer=([^,]+),subject=(.+)$/.exec(value) ?? /^subject=(.+?),issuer=([^,]+)$/.exec(value)
  if (!match) throw new CliError('--federated-identity: must be issuer=<url>,subject=<subject>')
  return value.startsWith('issuer=')
    ? { issuer: match[1] as string, subject: match[2] as string }
    : { issuer: match[2] as string, subject: match[1] as string }
}

/** The issuers of `identities` that the bootstrap file does not trust (all of them without one). */
async function untrustedIssuers(
  bootstrapFile: string | undefined,
  identities: readonly { issuer: string }[],
): Promise<string[]> {
  if (identities.length === 0) return []
  let trusted = new Set<string>()
  if (bootstrapFile) {
    const doc = await readBootstrapFile(bootstrapFile).catch(() => undefined)
    trusted = new Set((doc?.trusted_issuers ?? []).map((t) => t.issuer))
  }
  return [...new Set(identities.map((i) => i.issuer))].filter((issuer) => !trusted.has(issuer))
}
