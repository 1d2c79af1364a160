// `tollgate users|clients|sessions|registration-tokens …`: the records in the store (REDIS_URL / REDIS_CLUSTER_NODES) every instance shares.
import type { Command } from 'commander'
import { clientsCommands } from './clients.js'
import type { Context } from './common.js'
import { registrationTokensCommands } from './registration-tokens.js'
import { sessionsCommands } from './sessions.js'
import { usersCommands } from './users.js'

export function adminCommands(program: Command, context: Context): void {
  usersCommands(program, context)
  clientsCommands(program, context)
  sessionsCommands(program, context)
  registrationTokensCommands(program, context)
}
