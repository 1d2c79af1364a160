// `tollgate users …`: end users who sign in with a password.
import type { Command } from 'commander'
import { createUser, updateUser } from '../admin/users.js'
import { generateSecret } from '../clients/secrets.js'
import type { UserRecord } from '../store/types.js'
import { checkPassword, type UserInput } from '../users/user.js'
import {
  adminDeps,
  asCliError,
  attempt,
  type Context,
  collect,
  findUser,
  iso,
  operator,
  readStdin,
  withStore,
} from './common.js'

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

export function usersCommands(program: Command, context: Context): void {
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
        const input: UserInput = {
          username,
          password,
          ...(options.email ? { email: options.email, email_verified: Boolean(options.emailVerified) } : {}),
          ...(options.name ? { name: options.name } : {}),
          ...(options.role ? { roles: options.role } : {}),
        }
        const { record } = await attempt(createUser(await adminDeps(config, store), input, operator()), {
          exists: `user "${username}" exists`,
        })
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
          // Disabling refuses every token of the user from now on (at verifiers too) before the flag is set.
          const { sessionsEnded: ended } = await attempt(
            updateUser(await adminDeps(config, store), user.sub, { disabled }, operator(), undefined),
          )
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
        const { sessionsEnded: ended } = await attempt(
          updateUser(
            await adminDeps(config, store),
            user.sub,
            { password, ...(options.keepSessions ? { keep_sessions: true } : {}) },
            operator(),
            undefined,
          ),
        )
        out.result(
          { username: user.username, sub: user.sub, sessionsEnded: ended, ...(generated ? { password } : {}) },
          `password of ${user.username} changed; ended ${ended} session(s)` +
            (generated ? `\npassword (shown once): ${password}` : ''),
        )
      })
    })
}
