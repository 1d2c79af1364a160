// `tollgate keys generate|rotate|list [--alg ALG]`: signing keys in KEYS_DIR, shared by every instance, one staged
// lifecycle per algorithm of SIGNING_ALGS.
import { isSigningAlgorithm, type SigningAlgorithm } from '@tollgate/shared'
import type { Command } from 'commander'
import { rotateKeys } from '../admin/keys.js'
import type { Config } from '../config.js'
import { Keystore } from '../keys/keystore.js'
import { ID_TOKEN_TTL } from '../tokens/signer.js'
import { auditFor, operator, withStore } from './common.js'
import { CliError, type Output } from './output.js'

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString())
const ALG_OPTION = ['--alg <alg>', 'only this algorithm (RS256, ES256 or EdDSA; one of SIGNING_ALGS)'] as const

/** The `--alg` given, checked against SIGNING_ALGS; undefined when none was given. */
function algOf(config: Config, alg: string | undefined): SigningAlgorithm | undefined {
  if (alg === undefined) return undefined
  if (!isSigningAlgorithm(alg)) throw new CliError(`--alg: "${alg}" is not one of RS256, ES256, EdDSA`)
  if (!config.signingAlgs.includes(alg)) {
    throw new CliError(`--alg: ${alg} is not in SIGNING_ALGS (${config.signingAlgs.join(',')}); set SIGNING_ALGS first`)
  }
  return alg
}

export function keysCommands(program: Command, context: () => { config: Config; out: Output }): void {
  const keys = program.command('keys').description('signing keys in KEYS_DIR, per algorithm of SIGNING_ALGS')
  const open = (config: Config) =>
    Keystore.open({
      dir: config.keysDir,
      algorithms: config.signingAlgs,
      generateIfMissing: false,
      publishDelayMs: config.keyPublishDelay * 1000,
      retireAfterMs: (Math.max(config.accessTokenTtl, ID_TOKEN_TTL) + 60) * 1000,
    })

  keys
    .command('list')
    .description('every key with its algorithm and state: pending, active, verifying or retired')
    .option(...ALG_OPTION)
    .action(async (options: { alg?: string }) => {
      const { config, out } = context()
      const store = await open(config)
      out.table(
        store.list(algOf(config, options.alg)).map((k) => ({
          kid: k.kid,
          alg: k.alg,
          state: k.state,
          created: iso(k.createdAt),
          activates: iso(k.activatesAt),
          retires: iso(k.retiresAt),
        })),
        ['kid', 'alg', 'state', 'created', 'activates', 'retires'],
      )
    })

  keys
    .command('rotate')
    .description('add a key that is published now and signs after KEY_PUBLISH_DELAY (every algorithm without --alg)')
    .option(...ALG_OPTION)
    .action(async (options: { alg?: string }) => {
      const { config, out } = context()
      const alg = algOf(config, options.alg)
      const keystore = await open(config)
      // Audited in the store the servers share, when there is one (the in-memory store lives in each server).
      const added =
        config.redisUrl || config.redisClusterNodes
          ? await withStore(config, (store) =>
              rotateKeys(keystore, config.signingAlgs, auditFor(config, store), operator(), alg),
            )
          : await rotateKeys(keystore, config.signingAlgs, undefined, operator(), alg)
      const rows = added.map((key) => ({
        kid: key.kid,
        alg: key.alg,
        state: key.state,
        activates: iso(key.activatesAt),
      }))
      out.result(
        rows.length === 1 ? (rows[0] as Record<string, unknown>) : { keys: rows },
        added
          .map((key) => `added ${key.alg} key ${key.kid}: published now, signs from ${iso(key.activatesAt)}`)
          .join('\n'),
      )
    })

  keys
    .command('generate')
    .description(
      'add a key that signs immediately, for each algorithm without one (a new deployment; prefer `rotate` once verifiers exist)',
    )
    .option(...ALG_OPTION)
    .option('--force', 'even though a key of the algorithm is already active')
    .action(async (options: { alg?: string; force?: boolean }) => {
      const { config, out } = context()
      const only = algOf(config, options.alg)
      const store = await open(config)
      const algs = only === undefined ? config.signingAlgs : [only]
      const active = new Set(
        store
          .list()
          .filter((k) => k.state === 'active')
          .map((k) => k.alg),
      )
      const missing = options.force ? algs : algs.filter((alg) => !active.has(alg))
      if (missing.length === 0) {
        throw new CliError(
          `an active ${algs.join(', ')} key exists; verifiers may not know a new one yet: use \`keys rotate\`, or --force`,
        )
      }
      const added = []
      for (const alg of missing) added.push(await store.add({ alg }))
      const rows = added.map((key) => ({ kid: key.kid, alg: key.alg, state: 'active' }))
      out.result(
        rows.length === 1 ? (rows[0] as Record<string, unknown>) : { keys: rows },
        added.map((key) => `generated ${key.alg} key ${key.kid} (active now)`).join('\n'),
      )
    })
}
