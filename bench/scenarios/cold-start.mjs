// Cold start: process spawn to the first successful readiness answer, the targets interleaved sample by sample (so a
// noisy moment hurts all of them alike).
import path from 'node:path'
import { QUIET } from '../fixtures.mjs'
import { median, sleep, startProcess } from '../lib.mjs'

/** Median start-up time (ms) per target: bare Fastify, the auth server (in-memory, Redis), the API, oidc-provider. */
export async function coldStarts({ here, authEntry, apiEntry, fixtures, redis, issuer, audience, starts, log }) {
  const targets = {
    helloFastify: [path.join(here, 'servers/hello.mjs'), {}, '/'],
    authMemory: [authEntry, { ...QUIET, BOOTSTRAP_FILE: fixtures.clientsOnly, KEYS_DIR: fixtures.keysDir }, '/readyz'],
    authRedis: [
      authEntry,
      {
        ...QUIET,
        BOOTSTRAP_FILE: fixtures.clientsOnly,
        KEYS_DIR: fixtures.keysDir,
        REDIS_URL: redis.url,
        REDIS_PREFIX: 'cold:',
      },
      '/readyz',
    ],
    resourceApi: [apiEntry, { ...QUIET, ISSUER: issuer, AUDIENCE: audience }, '/readyz'],
    oidcProvider: [path.join(here, 'servers/oidc-provider.mjs'), {}, '/.well-known/openid-configuration'],
  }
  const samples = Object.fromEntries(Object.keys(targets).map((k) => [k, []]))
  for (let i = 0; i < starts; i++) {
    for (const [name, [entry, env, readyPath]] of Object.entries(targets)) {
      const server = await startProcess(entry, { env, readyPath })
      samples[name].push(server.startupMs)
      await server.stop()
      await sleep(100)
    }
  }
  const cold = {}
  for (const [name, values] of Object.entries(samples)) {
    cold[name] = median(values)
    log(`cold start ${name}: ${Math.round(cold[name])} ms (median of ${starts})`)
  }
  return cold
}
