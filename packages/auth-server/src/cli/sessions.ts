// `tollgate sessions …`: refresh-token sessions (token families).
import type { Command } from 'commander'
import { endUserSessions } from '../admin/sessions.js'
import { sessionId } from '../tokens/refresh-token.js'
import { adminDeps, type Context, findUser, iso, operator, withStore } from './common.js'
import { CliError } from './output.js'

export function sessionsCommands(program: Command, context: Context): void {
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
        const deps = await adminDeps(config, store)
        if (
          options.session &&
          !(await store.listSessions(user.sub, Date.now())).some((s) => sessionId(s.fid) === options.session)
        ) {
          throw new CliError(`no live session "${options.session}" of ${user.username}`)
        }
        const ended = await endUserSessions(deps, user.sub, operator(), options.session)
        out.result(
          { username: user.username, sub: user.sub, sessionsEnded: ended },
          `ended ${ended} session(s) of ${user.username}`,
        )
      })
    })
}
