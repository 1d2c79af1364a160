// `tollgate keys generate|rotate|list`: signing keys in KEYS_DIR, shared by every instance.
import type { Command } from 'commander'
import { rotateKey } from '../admin/keys.js'
import type { Config } from '../config.js'
import { Keystore } from '../keys/keystore.js'
import { ID_TOKEN_TTL } from '../tokens/signer.js'
import { auditFor, operator, withStore } from './common.js'
import { CliError, type Output } from './output.js'

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString())

export function keysCommands(program: Command, context: () => { config: Config; out: Output }): void {
  const keys = program.command('keys').description('signing keys in KEYS_DIR')
  const open = (config: Config) =>
    Keystore.open({
      dir: config.keysDir,
      generateIfMissing: false,
      publishDelayMs: config.keyPublishDelay * 1000,
      retireAfterMs: (Math.max(config.accessTokenTtl, ID_TOKEN_TTL) + 60) * 1000,
    })

  keys
    .command('list')
    .description('every key with its state: pending, active, verifying or retired')
    .action(async () => {
      const { config, out } = context()
      const store = await open(config)
      out.table(
        store.list().map((k) => ({
          kid: k.kid,
          state: k.state,
          created: iso(k.createdAt),
          activates: iso(k.activatesAt),
          retires: iso(k.retiresAt),
        })),
        ['kid', 'state', 'created', 'activates', 'retires'],
      )
    })

  keys
    .command('rotate')
    .description('add a key that is published now and signs after KEY_PUBLISH_DELAY')
    .action(async () => {
      const { config, out } = context()
      const keystore = await open(config)
      // Audited in the store the servers share, when there is one (the in-memory store lives in each server).
      const key =
        config.redisUrl || config.redisClusterNodes
          ? await withStore(config, (store) => rotateKey(keystore, auditFor(config, store), operator()))
          : await rotateKey(keystore, undefined, operator())
      out.result(
        { kid: key.kid, state: 'pending', activates: iso(key.activatesAt) },
        `added key ${key.kid}: published now, signs from ${iso(key.activatesAt)}`,
      )
    })

  keys
    .command('generate')
    .description('add a key that signs immediately (for a new deployment; prefer `rotate` once verifiers exist)')
    .option('--force', 'even though other keys are already active')
    .action(async (options: { force?: boolean }) => {
      const { config, out } = context()
      const store = await open(config)
      if (store.ready && !options.force) {
        throw new CliError('an active key exists; verifiers may not know a new one yet: use `keys rotate`, or --force')
      }
      const key = await store.add()
      out.result({ kid: key.kid, state: 'active' }, `generated key ${key.kid} (active now)`)
    })
}
