// `tollgate`: the admin CLI. Configured by the same environment as the server (REDIS_URL, KEYS_DIR, …).
import { Command, CommanderError } from 'commander'
import { adminCommands } from './cli/admin.js'
import { devCommand } from './cli/dev.js'
import { gateCommand } from './cli/gate.js'
import { keysCommands } from './cli/keys.js'
import { loginCommand } from './cli/login.js'
import { CliError, type Output, output } from './cli/output.js'
import { type Config, ConfigError, loadConfig } from './config.js'

const program = new Command('tollgate')
  .description(
    'Tollgate administration: users, clients, sessions and signing keys; `tollgate dev`, a test issuer; `tollgate gate`',
  )
  .option('--json', 'machine-readable output')
  .showHelpAfterError()
  .exitOverride()

let config: Config | undefined
const context = (): { config: Config; out: Output } => {
  config ??= loadConfig()
  return { config, out: output(Boolean(program.opts().json)) }
}

adminCommands(program, context)
keysCommands(program, context)
devCommand(program)
gateCommand(program)
loginCommand(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; usage mistakes exit 2.
    process.exitCode = err.exitCode === 0 ? 0 : 2
  } else if (err instanceof CliError || err instanceof ConfigError) {
    process.stderr.write(`tollgate: ${err.message}\n`)
    process.exitCode = 1
  } else {
    process.stderr.write(`tollgate: ${(err as Error).message}\n`)
    process.exitCode = 1
  }
}
