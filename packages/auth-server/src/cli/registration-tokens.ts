// `tollgate registration-tokens …`: initial access tokens that let a deployment pipeline register clients (RFC 7591).
import type { Command } from 'commander'
import {
  createInitialAccessToken,
  DEFAULT_EXPIRES_IN,
  initialAccessTokenJson,
} from '../registration/initial-access-tokens.js'
import { adminDeps, attempt, type Context, iso, operator, withStore } from './common.js'
import { CliError } from './output.js'

const whole = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new CliError(`${name} must be a whole number`)
  return Number(value)
}

export function registrationTokensCommands(program: Command, context: Context): void {
  const tokens = program
    .command('registration-tokens')
    .description('initial access tokens for dynamic client registration (POST /oauth/register)')

  tokens
    .command('create')
    .description('issue a token (printed once; stored only hashed) for a pipeline to register clients with')
    .option('--expires-in <seconds>', `how long it stays usable (default ${DEFAULT_EXPIRES_IN})`, whole('--expires-in'))
    .option('--max-uses <n>', 'how many clients it may register (default 1)', whole('--max-uses'))
    .option('--description <text>', 'what it is for (shown in lists and the audit log)')
    .action(async (options: { expiresIn?: number; maxUses?: number; description?: string }) => {
      const { config, out } = context()
      await withStore(config, async (store) => {
        const { token, record } = await attempt(
          createInitialAccessToken(
            await adminDeps(config, store, true),
            {
              ...(options.expiresIn === undefined ? {} : { expires_in: options.expiresIn }),
              ...(options.maxUses === undefined ? {} : { max_uses: options.maxUses }),
              ...(options.description === undefined ? {} : { description: options.description }),
            },
            operator(),
          ),
        )
        out.result(
          { token, ...initialAccessTokenJson(record) },
          `initial access token ${record.id}: ${record.maxUses} registration(s) until ${iso(record.expiresAt)}\n` +
            `token (shown once): ${token}`,
        )
      })
    })

  tokens
    .command('list')
    .description('live tokens (never the tokens themselves)')
    .action(async () => {
      const { config, out } = context()
      await withStore(config, async (store) => {
        const rows = (await store.listInitialAccessTokens(Date.now())).map((t) => ({ ...initialAccessTokenJson(t) }))
        out.table(rows, ['id', 'uses_left', 'max_uses', 'expires_at', 'created_by', 'description'])
      })
    })

  tokens
    .command('revoke <id>')
    .description('withdraw a token before it expires')
    .action(async (id: string) => {
      const { config, out } = context()
      await withStore(config, async (store) => {
        const deps = await adminDeps(config, store)
        await deps.audit.change(
          'initial_access_token.revoked',
          operator(),
          { target: { type: 'initial_access_token', id } },
          async (audit) => {
            if (!(await store.removeInitialAccessToken(id, { audit }))) {
              throw new CliError(`no live initial access token "${id}"`)
            }
          },
        )
        out.result({ id, revoked: true }, `revoked initial access token ${id}`)
      })
    })
}
