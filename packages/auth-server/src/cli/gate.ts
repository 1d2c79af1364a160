// `tollgate gate`: runs the gate (@tollgate/gate, docs/gate.md) in this process, configured by its environment —
// the same process `pnpm --filter @tollgate/gate start` and the gate's image run.
import type { Command } from 'commander'
import { CliError } from './output.js'

/** A variable, not a literal: the gate is an optional companion package, resolved only when this command runs. */
const GATE_ENTRY = '@tollgate/gate/main'

export function gateCommand(program: Command): void {
  program
    .command('gate')
    .description(
      'run the gate: Tollgate token checks (DPoP, revocation, scopes) for nginx, Envoy, Traefik or Caddy in front of any service; configured by PORT, ISSUER, AUDIENCE, TRUST_PROXY, GATE_POLICY, … (docs/gate.md)',
    )
    .action(async () => {
      let gate: { runGate(): Promise<void> }
      try {
        gate = (await import(GATE_ENTRY)) as typeof gate
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
          throw new CliError('the gate is its own package: install @tollgate/gate beside @tollgate/auth-server')
        }
        throw err
      }
      await gate.runGate()
    })
}
