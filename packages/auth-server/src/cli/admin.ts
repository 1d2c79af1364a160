// `tollgate users|clients|sessions …`: the records in the store (REDIS_URL / REDIS_CLUSTER_NODES) every instance shares.
import type { Command } from 'commander'
import { type ClientInput, ClientValidationError, clientRecord } from '../clients/client.js'
import { generateSecret, SecretHasher } from '../clients/secrets.js'
import type { Config } from '../config.js'
import { loadSecretKey } from '../keys/secret-key.js'
import { openStore } from '../store/index.js'
import { type Store, UsernameTakenError, type UserRecord } from '../store/types.js'
import { sessionId } from '../tokens/refresh-token.js'
import { hashPassword } from '../users/passwords.js'
import { checkPassword, type UserInput, UserValidationError, userRecord } from '../users/user.js'
import { CliError, type Output } from './output.js'

type Context = () => { config: Config; out: Output }

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString())
const collect = (value: string, previous: string[] = []) => [...previous, value]

/** Opens the shared store, runs `fn`, always closes it. The in-memory store would vanish with this process. */
async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  if (!config.redisUrl && !config.redisClusterNodes) {
    throw new CliError(
      'REDIS_URL (or REDIS_CLUSTER_NODES) is not set: the CLI manages the Redis store the servers share',
    )
  }
  const store = await openStore(config).catch((err: Error) => {
    throw new CliError(`cannot reach Redis: ${err.message}`)
  })
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** A secret from stdin (everything up to the end, one trailing newline dropped). Never from argv. */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

async function findUser(store: Store, username: string): Promise<UserRecord> {
  const user = await store.findUserByUsername(username)
  if (!user) throw new CliError(`no user "${username}"`)
  return user
}

/** Validation failures of our own input modules become one-line CLI errors. */
function asCliError(err: unknown): never {
  if (err instanceof UserValidationError || err instanceof ClientValidationError || err instanceof UsernameTakenError) {
    throw new CliError(err.message)
  }
  throw err
}

function userRow(u: UserRecord) {
  return {
    sub: u.sub,
    username: u.username,
    email: u.email,
    name: u.name,
    roles: u.roles,
    disabled: u.disabled,
    created: iso(u.createdAt),
  }
}

function usersCommands(program: Command, context: Context): void {
  const users = program.command('users').description('end users who sign in with a password')

  users
    .command('add <username>')
    .description(
      'create a user; the password is read from stdin with --password-stdin, else generated and printed once',
    )
    .option('--password-stdin', 'read the password from stdin')
    .option('--email <address>', 'email address')
    .option('--email-verified', 'the email address is verified')
    .option('--name <name>', 'display name')
    .option('--role <role>', 'a role (repeatable)', collect)
    .action(async (username: string, options) => {
      const { config, out } = context()
      const generated = !options.passwordStdin
      const password = generated ? generateSecret() : await readStdin()
      await withStore(config, async (store) => {
        if (await store.findUserByUsername(username)) throw new CliError(`user "${username}" exists`)
        const input: UserInput = {
          username,
          password,
          ...(options.email ? { email: options.email, email_verified: Boolean(options.emailVerified) } : {}),
          ...(options.name ? { name: options.name } : {}),
          ...(options.role ? { roles: options.role } : {}),
        }
        const record = await userRecord(input, undefined, Date.now()).catch(asCliError)
        await store.putUser(record).catch(asCliError)
        out.result(
          { sub: record.sub, username, ...(generated ? { password } : {}) },
          generated
            ? `added user ${username} (sub ${record.sub})\npassword (shown once): ${password}`
            : `added user ${username} (sub ${record.sub})`,
        )
      })
    })

  users
    .command('list')
    .description('every user (never password hashes)')
    .action(async () => {
      const { config, out } = context()
      await withStore(config, async (store) => {
        const rows = (await store.listUsers()).sort((a, b) => a.username.localeCompare(b.username)).map(userRow)
        out.table(rows, ['username', 'sub', 'email', 'roles', 'disabled', 'created'])
      })
    })

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    users
      .command(`${name} <username>`)
      .description(
        disabled
          ? 'stop a user from signing in and end every session of theirs'
          : 'allow a disabled user to sign in again',
      )
      .action(async (username: string) => {
        const { config, out } = context()
        await withStore(config, async (store) => {
          const user = await findUser(store, username)
          await store.putUser({ ...user, disabled, updatedAt: Date.now() })
          const ended = disabled ? await store.revokeUserSessions(user.sub) : 0
          out.result(
            { username: user.username, sub: user.sub, disabled, ...(disabled ? { sessionsEnded: ended } : {}) },
            disabled ? `disabled ${user.username}; ended ${ended} session(s)` : `enabled ${user.username}`,
          )
        })
      })
  }

  users
    .command('set-password <username>')
    .description('replace a password (stdin with --password-stdin, else generated and printed once); ends sessions')
    .option('--password-stdin', 'read the password from stdin')
    .option('--keep-sessions', 'do not end the user’s sessions')
    .action(async (username: string, options: { passwordStdin?: boolean; keepSessions?: boolean }) => {
      const { config, out } = context()
      const generated = !options.passwordStdin
      const password = generated ? generateSecret() : await readStdin()
      try {
        checkPassword(password, `user ${username}`)
      } catch (err) {
        asCliError(err)
      }
      await withStore(config, async (store) => {
        const user = await findUser(store, username)
        await store.putUser({ ...user, passwordHash: await hashPassword(password), updatedAt: Date.now() })
        const ended = options.keepSessions ? 0 : await store.revokeUserSessions(user.sub)
        out.result(
          { username: user.username, sub: user.sub, sessionsEnded: ended, ...(generated ? { password } : {}) },
          `password of ${user.username} changed; ended ${ended} session(s)` +
            (generated ? `\npassword (shown once): ${password}` : ''),
        )
      })
    })
}

function clientsCommands(program: Command, context: Context): void {
  const clients = program.command('clients').description('OAuth clients (services and apps)')

  clients
    .command('add <client_id>')
    .description(
      'register a client; a confidential client’s secret is read from stdin with --secret-stdin, else generated and printed once',
    )
    .requiredOption('--grant <grant_type>', 'an allowed grant type (repeatable)', collect)
    .requiredOption(
      '--audience <uri>',
      'a resource it may get tokens for (repeatable; the first is the default)',
      collect,
    )
    .option('--scope <scope>', 'an allowed scope (repeatable)', collect)
    .option('--redirect-uri <uri>', 'an exact redirect URI for authorization_code (repeatable)', collect)
    .option('--origin <origin>', 'a browser origin allowed to call the session endpoints (repeatable)', collect)
    .option('--public', 'a public client (no secret: browser or native app)')
    .option('--name <name>', 'display name')
    .option('--secret-stdin', 'read the client secret from stdin')
    .option('--replace', 'replace an existing client of that id (keeps nothing of it)')
    .action(async (clientId: string, options) => {
      const { config, out } = context()
      const isPublic = Boolean(options.public)
      const generated = !isPublic && !options.secretStdin
      const secret = isPublic ? undefined : generated ? generateSecret() : await readStdin()
      const input: ClientInput = {
        client_id: clientId,
        grant_types: options.grant,
        audiences: options.audience,
        ...(options.scope ? { scopes: options.scope } : {}),
        ...(options.redirectUri ? { redirect_uris: options.redirectUri } : {}),
        ...(options.origin ? { allowed_origins: options.origin } : {}),
        ...(options.name ? { name: options.name } : {}),
        ...(isPublic ? { public: true } : { client_secret: secret as string }),
      }
      const hasher = new SecretHasher(await loadSecretKey(config.keysDir, config.clientSecretKey))
      let record: ReturnType<typeof clientRecord>
      try {
        record = clientRecord(input, hasher, Date.now())
      } catch (err) {
        asCliError(err)
      }
      await withStore(config, async (store) => {
        if (!options.replace && (await store.getClient(clientId))) {
          throw new CliError(`client "${clientId}" exists (use --replace to overwrite it)`)
        }
        await store.putClient(record)
        out.result(
          {
            client_id: clientId,
            public: isPublic,
            grant_types: record.grantTypes,
            scopes: record.scopes,
            audiences: record.audiences,
            ...(generated ? { client_secret: secret } : {}),
          },
          `added ${isPublic ? 'public' : 'confidential'} client ${clientId}` +
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
            created: iso(c.createdAt),
          }))
        out.table(rows, ['client_id', 'type', 'grant_types', 'scopes', 'audiences', 'created'])
      })
    })

  clients
    .command('remove <client_id>')
    .description('delete a client: its secret stops working at once (instances cache clients for up to 5 s)')
    .action(async (clientId: string) => {
      const { config, out } = context()
      await withStore(config, async (store) => {
        if (!(await store.removeClient(clientId))) throw new CliError(`no client "${clientId}"`)
        out.result({ client_id: clientId, removed: true }, `removed client ${clientId}`)
      })
    })
}

function sessionsCommands(program: Command, context: Context): void {
  const sessions = program.command('sessions').description('refresh-token sessions (token families)')

  sessions
    .command('list')
    .description('a user’s live sessions')
    .requiredOption('--user <username>', 'whose sessions')
    .action(async (options: { user: string }) => {
      const { config, out } = context()
      await withStore(config, async (store) => {
        const user = await findUser(store, options.user)
        const rows = (await store.listSessions(user.sub, Date.now())).map((s) => ({
          id: sessionId(s.fid),
          client_id: s.clientId,
          scope: s.scope,
          created: iso(s.createdAt),
          last_used: iso(s.lastUsedAt),
          expires: iso(s.expiresAt),
          user_agent: s.userAgent,
        }))
        out.table(rows, ['id', 'client_id', 'created', 'last_used', 'expires', 'user_agent'])
      })
    })

  sessions
    .command('revoke')
    .description('end every session of a user (or one, with --session): their refresh tokens stop working at once')
    .requiredOption('--user <username>', 'whose sessions')
    .option('--session <id>', 'only this session (an id from `sessions list`)')
    .action(async (options: { user: string; session?: string }) => {
      const { config, out } = context()
      await withStore(config, async (store) => {
        const user = await findUser(store, options.user)
        let ended: number
        if (options.session) {
          const match = (await store.listSessions(user.sub, Date.now())).find(
            (s) => sessionId(s.fid) === options.session,
          )
          if (!match) throw new CliError(`no live session "${options.session}" of ${user.username}`)
          ended = (await store.revokeSession(user.sub, match.fid)) ? 1 : 0
        } else {
          ended = await store.revokeUserSessions(user.sub)
        }
        out.result(
          { username: user.username, sub: user.sub, sessionsEnded: ended },
          `ended ${ended} session(s) of ${user.username}`,
        )
      })
    })
}

export function adminCommands(program: Command, context: Context): void {
  usersCommands(program, context)
  clientsCommands(program, context)
  sessionsCommands(program, context)
}
