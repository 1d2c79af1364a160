#!/usr/bin/env node
// `pnpm bench`: Tollgate against its baselines and peers, side by side on loopback, five rounds, medians.
// Prints every goal with its ratio and writes bench/RESULTS.md. `--smoke` runs each scenario for one second,
// once, and writes nothing (CI uses it so the bench cannot rot). `--duration=S --rounds=N --only=a,b` override.
import { execFileSync, spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  AUDIENCE,
  EDDSA_AUDIENCE,
  ES256_AUDIENCE,
  form,
  formHeaders,
  QUIET,
  SERVICE,
  SIGNING,
  writeFixtures,
} from './fixtures.mjs'
import { freePort, median, sleep, startProcess, startRedis } from './lib.mjs'
import { buildReport } from './report.mjs'
import { coldStarts } from './scenarios/cold-start.mjs'
import { addedP50, gateScenarios, startNginx } from './scenarios/gate.mjs'
import { eventFanOut, revocationLatency, seedDenials } from './scenarios/revocation.mjs'
import { combine, GROUPS, throughputScenarios } from './scenarios/throughput.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const arg = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`))
  return hit ? Number(hit.split('=')[1]) : fallback
}
const SMOKE = process.argv.includes('--smoke')
const DURATION = arg('duration', SMOKE ? 1 : 8)
const ROUNDS = arg('rounds', SMOKE ? 1 : 5)
const STARTS = SMOKE ? 1 : 7
const SLICES = SMOKE ? 1 : 4
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',')
const log = (...args) => console.error('[bench]', ...args)

const fixtures = await writeFixtures()
const redis = await startRedis()
const authEntry = path.join(root, 'packages/auth-server/dist/server.bundle.js')
const apiEntry = path.join(root, 'packages/resource-api/dist/server.bundle.js')
const gateEntry = path.join(root, 'packages/gate/dist/server.bundle.js')
const authEnv = {
  ...QUIET,
  ...SIGNING,
  REDIS_URL: redis.url,
  REDIS_PREFIX: 'bench:',
  BOOTSTRAP_FILE: fixtures.bootstrap,
  KEYS_DIR: fixtures.keysDir,
  ACCESS_TOKEN_TTL: '3600',
}
const servers = []
const start = async (entry, options) => {
  const server = await startProcess(entry, options)
  servers.push(server)
  return server
}
const stopAll = () => Promise.all(servers.map((s) => s.stop()))
/** Whether any of these scenarios runs (all of them without --only). */
const wanted = (...names) => !only || names.some((name) => only.includes(name))
process.on('SIGINT', async () => {
  await stopAll()
  await redis.stop()
  process.exit(130)
})

/** Every group in turn, each member in slices, for ROUNDS rounds; per scenario, its figures round by round. */
async function runRounds(scenarios) {
  const results = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const group of GROUPS) {
      const members = group.filter((name) => !only || only.includes(name))
      if (members.length === 0) continue
      // Long single-member scenarios (logins) run whole; a group shares each round's time in slices.
      const slices = members.length > 1 ? SLICES : 1
      const got = Object.fromEntries(members.map((name) => [name, []]))
      for (let slice = 0; slice < slices; slice++) {
        for (const name of members) {
          got[name].push(await scenarios[name](DURATION / slices))
          await sleep(SMOKE ? 100 : slices > 1 ? 300 : 1000)
        }
      }
      for (const name of members) {
        const result = combine(got[name])
        results[name].push(result)
        log(`round ${round} ${name}: ${Math.round(result.rps)} req/s, p99 ${result.p99} ms, non-2xx ${result.non2xx}`)
      }
    }
  }
  return results
}

try {
  log(`duration ${DURATION}s × ${ROUNDS} round(s), ${cpus().length} cores`)
  const hello = await start(path.join(here, 'servers/hello.mjs'), {})
  const signer = await start(path.join(here, 'servers/sign-token.mjs'), { readyPath: '/healthz' })
  const signerES256 = await start(path.join(here, 'servers/sign-token.mjs'), {
    env: { ALG: 'ES256' },
    readyPath: '/healthz',
  })
  const signerEdDSA = await start(path.join(here, 'servers/sign-token.mjs'), {
    env: { ALG: 'EdDSA' },
    readyPath: '/healthz',
  })
  const fastifyJwt = await start(path.join(here, 'servers/fastify-jwt.mjs'), { readyPath: '/healthz' })
  const oidc = await start(path.join(here, 'servers/oidc-provider.mjs'), {
    readyPath: '/.well-known/openid-configuration',
  })
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const auth = await start(authEntry, { port, env: { ...authEnv, ISSUER: issuer }, readyPath: '/readyz' })
  // Resource APIs follow the revocation feed (their default); one does not, to price following it.
  const apiEnv = { ...QUIET, ISSUER: issuer, AUDIENCE }
  const api = await start(apiEntry, { env: apiEnv, readyPath: '/readyz' })
  const moreApis = [
    await start(apiEntry, { env: apiEnv, readyPath: '/readyz' }),
    await start(apiEntry, { env: apiEnv, readyPath: '/readyz' }),
  ]
  const apiNoRevocation = await start(apiEntry, { env: { ...apiEnv, REVOCATION_EVENTS: 'off' }, readyPath: '/readyz' })
  // The same API for an audience whose tokens are signed ES256 (bootstrap resources).
  const apiES256 = await start(apiEntry, { env: { ...apiEnv, AUDIENCE: ES256_AUDIENCE }, readyPath: '/readyz' })
  // The gate follows the revocation feed like the resource APIs; nginx asks it as docs/gate.md configures it.
  const gate = await start(gateEntry, { env: apiEnv, readyPath: '/readyz' })
  let nginx
  if (wanted('nginxPlain', 'nginxGate')) {
    nginx = await startNginx({ root, gatePort: gate.port, upstreamPort: hello.port })
    servers.push(nginx)
  }
  const token = async (fields, client) => {
    const res = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: formHeaders(client),
      body: form(fields),
    })
    if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`)
    return res.json()
  }

  // Token sizes: the same service token for an audience of each algorithm.
  const tokenSizes = {}
  for (const [alg, resource] of [
    ['RS256', AUDIENCE],
    ['ES256', ES256_AUDIENCE],
    ['EdDSA', EDDSA_AUDIENCE],
  ]) {
    tokenSizes[alg] = (await token({ grant_type: 'client_credentials', resource }, SERVICE)).access_token.length
  }
  log(`token sizes: ${JSON.stringify(tokenSizes)}`)

  // The verifiers hold denials while they are measured, as in production: revoked service tokens.
  const DENIALS = SMOKE ? 100 : 2_000
  await seedDenials(issuer, DENIALS)
  log(`seeded ${DENIALS} revocations`)
  const bearer = (await token({ grant_type: 'client_credentials' }, SERVICE)).access_token
  const results = await runRounds({
    ...(await throughputScenarios({
      hello,
      signer,
      signerES256,
      signerEdDSA,
      fastifyJwt,
      oidc,
      api,
      apiNoRevocation,
      apiES256,
      issuer,
      token,
    })),
    ...(await gateScenarios({ gate, nginx, token: bearer })),
  })
  // Revoke-to-deny at three verifiers, each under load; then publishing and fanning out to 50 followers.
  const revocation = {}
  if (!only || only.includes('revocation')) {
    const loadToken = (await token({ grant_type: 'client_credentials' }, SERVICE)).access_token
    revocation.latency = await revocationLatency({
      issuer,
      apis: [api.url, ...moreApis.map((a) => a.url)],
      samples: SMOKE ? 3 : 60,
      loadToken,
      durationHint: SMOKE ? 1 : 5,
    })
    log(`revoke-to-deny: ${JSON.stringify(revocation.latency)}`)
    revocation.fanOut = await eventFanOut({ issuer, followers: 50, events: SMOKE ? 100 : 2_000 })
    log(`revocation events: ${JSON.stringify(revocation.fanOut)}`)
    revocation.memory = JSON.parse(
      execFileSync(
        process.execPath,
        ['--expose-gc', path.join(here, 'denial-memory.mjs'), String(SMOKE ? 10_000 : 100_000)],
        {
          encoding: 'utf8',
        },
      ),
    )
    log(`memory per denial: ${revocation.memory.bytesPerDenial} bytes`)
  }
  if (only) {
    for (const name of only) log(name, JSON.stringify(results[name] ?? revocation))
    const ratio = (a, b) => median(results[a].map((r, i) => r.rps / results[b][i].rps))
    if (results.gateVerify?.length && results.resourceApi?.length) {
      log(`gate decision ÷ resource API /v1/me: ${ratio('gateVerify', 'resourceApi').toFixed(2)}× (goal ≥ 0.9×)`)
    }
    if (results.nginxGate?.length && results.nginxPlain?.length) {
      log(`p50 the gate adds through nginx at 50 connections: ${addedP50(results).toFixed(3)} ms (goal ≤ 1 ms)`)
    }
    // process.exit skips the finally below: stop the servers first, or every --only run leaves them running.
    await stopAll()
    await redis.stop()
    process.exit(0)
  }

  // The load servers stop for the cold starts; the auth server stays up (the resource API is ready once it has
  // loaded the JWKS from it).
  for (const server of servers.splice(0)) {
    if (server === auth) servers.push(server)
    else await server.stop()
  }
  const cold = await coldStarts({
    here,
    authEntry,
    apiEntry,
    fixtures,
    redis,
    issuer,
    audience: AUDIENCE,
    starts: STARTS,
    log,
  })

  // How long a test waits for its issuer: three fresh processes each, the median of their figures.
  const issuerStart = {}
  for (const which of ['tollgate', 'oauth2-mock-server']) {
    const runs = []
    for (let i = 0; i < (SMOKE ? 1 : 3); i++) {
      runs.push(
        JSON.parse(
          execFileSync(process.execPath, [path.join(here, 'test-issuer-start.mjs'), which], {
            cwd: path.join(here, '..'),
            encoding: 'utf8',
          }),
        ),
      )
    }
    issuerStart[which] = { first: median(runs.map((r) => r.first)), median: median(runs.map((r) => r.median)) }
    log(
      `test issuer start (${which}): first ${issuerStart[which].first.toFixed(0)} ms, then ${issuerStart[which].median.toFixed(0)} ms`,
    )
  }

  // Redis memory per live session (bench/session-memory.mjs, its own redis-server).
  const memory = JSON.parse(
    execFileSync(process.execPath, [path.join(here, 'session-memory.mjs'), String(SMOKE ? 1000 : 10_000)], {
      encoding: 'utf8',
    }),
  )
  log(`redis memory per session: ${memory.bytesPerSession} bytes`)

  const { text, allMet, ours } = await buildReport({
    here,
    results,
    cold,
    memory,
    revocation,
    issuerStart,
    tokenSizes,
    denials: DENIALS,
    redisVersion: redis.version,
    settings: { ROUNDS, DURATION, SLICES, STARTS },
  })
  process.stdout.write(`\n${text}`)
  if (!SMOKE) await writeFile(path.join(here, 'RESULTS.md'), text)
  // A scenario that completed nothing is broken too — except in a smoke run, whose slices are a fraction of a second:
  // on a loaded machine a baseline may complete nothing in one, and only Tollgate's correctness is judged there.
  const broken = Object.entries(results).filter(([name, rs]) =>
    rs.some((r) => (ours.has(name) && r.errorShare > 0.001) || (!SMOKE && r.rps === 0)),
  )
  if (broken.length > 0) {
    log(`scenarios with errors: ${broken.map(([n]) => n).join(', ')}`)
    process.exitCode = 1
  }
  log(allMet ? 'every goal met' : 'some goals not met')
} finally {
  await stopAll()
  await redis.stop()
  spawnSync('true')
}
