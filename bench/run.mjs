#!/usr/bin/env node
// `pnpm bench`: Tollgate against its baselines and peers, side by side on loopback, five rounds, medians.
// Prints every goal with its ratio and writes bench/RESULTS.md. `--smoke` runs each scenario for one second,
// once, and writes nothing (CI uses it so the bench cannot rot). `--duration=S --rounds=N` override.
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { cpus, tmpdir, totalmem } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { cannon, median, sleep, startProcess, startRedis } from './lib.mjs'

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
const CHAINS = 100

const log = (...args) => console.error('[bench]', ...args)
const form = (fields) => new URLSearchParams(fields).toString()
const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

// --- fixtures ---------------------------------------------------------------------------------------------------
const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-bench-'))
const SERVICE = { id: 'bench-service', secret: randomBytes(32).toString('base64url') }
const WEB = { id: 'bench-web', secret: randomBytes(32).toString('base64url') }
const USER = { username: 'bench-user', password: 'bench-password-123' }
const AUDIENCE = 'https://api.bench.test'
const bootstrap = path.join(dir, 'bootstrap.json')
const clientsOnly = path.join(dir, 'clients.json')
const clients = [
  {
    client_id: SERVICE.id,
    client_secret: SERVICE.secret,
    grant_types: ['client_credentials'],
    scopes: ['notes:read'],
    audiences: [AUDIENCE],
  },
  {
    client_id: WEB.id,
    client_secret: WEB.secret,
    grant_types: ['password', 'refresh_token'],
    scopes: ['notes:read'],
    audiences: [AUDIENCE],
  },
]
await writeFile(bootstrap, JSON.stringify({ clients, users: [USER] }))
await writeFile(clientsOnly, JSON.stringify({ clients }))

const redis = await startRedis()
const authEntry = path.join(root, 'packages/auth-server/dist/server.bundle.js')
const apiEntry = path.join(root, 'packages/resource-api/dist/server.bundle.js')
// Request logging off (as the baselines), no per-IP token rate limit (every request comes from one IP here).
const quiet = { LOG_LEVEL: 'warn', TOKEN_RATE_LIMIT: '0' }
const authEnv = {
  ...quiet,
  REDIS_URL: redis.url,
  REDIS_PREFIX: 'bench:',
  BOOTSTRAP_FILE: bootstrap,
  KEYS_DIR: path.join(dir, 'keys'),
  ACCESS_TOKEN_TTL: '3600',
}
const servers = []
const start = async (entry, options) => {
  const server = await startProcess(entry, options)
  servers.push(server)
  return server
}
const stopAll = () => Promise.all(servers.map((s) => s.stop()))
process.on('SIGINT', async () => {
  await stopAll()
  await redis.stop()
  process.exit(130)
})

try {
  log(`duration ${DURATION}s × ${ROUNDS} round(s), ${cpus().length} cores`)
  const hello = await start(path.join(here, 'servers/hello.mjs'), {})
  const signer = await start(path.join(here, 'servers/sign-token.mjs'), { readyPath: '/healthz' })
  const fastifyJwt = await start(path.join(here, 'servers/fastify-jwt.mjs'), { readyPath: '/healthz' })

  const oidc = await start(path.join(here, 'servers/oidc-provider.mjs'), {
    readyPath: '/.well-known/openid-configuration',
  })
  const authPort = (await import('./lib.mjs')).freePort
  const port = await authPort()
  const issuer = `http://127.0.0.1:${port}`
  const auth = await start(authEntry, { port, env: { ...authEnv, ISSUER: issuer }, readyPath: '/readyz' })
  const api = await start(apiEntry, { env: { ...quiet, ISSUER: issuer, AUDIENCE }, readyPath: '/healthz' })

  const token = async (fields, client) => {
    const res = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) },
      body: form(fields),
    })
    if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`)
    return res.json()
  }
  const accessToken = (await token({ grant_type: 'client_credentials' }, SERVICE)).access_token
  const jwtToken = (await (await fetch(`${fastifyJwt.url}/token`)).json()).token
  if ((await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status !== 200) {
    throw new Error('the resource API does not accept the bench token')
  }

  const ccBody = form({ grant_type: 'client_credentials' })
  const formHeaders = (client) => ({
    'content-type': 'application/x-www-form-urlencoded',
    authorization: basic(client.id, client.secret),
  })
  const OIDC = { id: 'bench', secret: 'bench-secret-0123456789abcdef0123456789abcdef' }

  /**
   * Refresh chains: each request takes a chain no other request is using, presents its current token and puts the
   * chain back with the successor, so every chain is walked strictly one refresh after another, as a real client does.
   */
  const chainRequests = (tokens, url, client) => {
    const idle = tokens.map((token) => ({ token }))
    return {
      url,
      requests: [
        {
          method: 'POST',
          headers: formHeaders(client),
          setupRequest: (req, context) => {
            context.chain = idle.pop()
            if (!context.chain) throw new Error('more connections than refresh chains')
            return { ...req, body: form({ grant_type: 'refresh_token', refresh_token: context.chain.token }) }
          },
          onResponse: (status, body, context) => {
            if (status === 200) context.chain.token = JSON.parse(body).refresh_token
            idle.push(context.chain)
          },
        },
      ],
    }
  }

  // Each scenario: a run for a given duration.
  const run = (options) => (duration) => cannon({ ...options, duration })
  const scenarios = {
    hello: run({ url: `${hello.url}/` }),
    resourceApi: run({ url: `${api.url}/v1/me`, headers: { authorization: `Bearer ${accessToken}` } }),
    fastifyJwt: run({ url: `${fastifyJwt.url}/protected`, headers: { authorization: `Bearer ${jwtToken}` } }),
    signToken: run({ url: `${signer.url}/token`, method: 'POST', headers: formHeaders(SERVICE), body: ccBody }),
    tokenClientCredentials: run({
      url: `${issuer}/oauth/token`,
      method: 'POST',
      headers: formHeaders(SERVICE),
      body: ccBody,
    }),
    oidcClientCredentials: run({
      url: `${oidc.url}/token`,
      method: 'POST',
      headers: formHeaders(OIDC),
      body: form({ grant_type: 'client_credentials', scope: 'notes:read', resource: 'https://api.test' }),
    }),
    // Fresh chains for every slice: a request cut off when a slice ends may have rotated its chain without the client
    // seeing the successor, and presenting the old token later is (correctly) treated as reuse.
    refreshRotation: async (duration) => {
      const chains = []
      for (let i = 0; i < CHAINS; i++) {
        chains.push(
          (await token({ grant_type: 'password', username: USER.username, password: USER.password }, WEB))
            .refresh_token,
        )
      }
      return cannon({ ...chainRequests(chains, `${issuer}/oauth/token`, WEB), duration })
    },
    oidcRefresh: async (duration) => {
      const chains = (await (await fetch(`${oidc.url}/bench/refresh-tokens?n=${CHAINS}`)).json()).tokens
      return cannon({ ...chainRequests(chains, `${oidc.url}/token`, OIDC), duration })
    },
    passwordLogin: run({
      url: `${issuer}/oauth/token`,
      method: 'POST',
      headers: formHeaders(WEB),
      body: form({ grant_type: 'password', username: USER.username, password: USER.password }),
      connections: 32,
    }),
    jwks: run({ url: `${issuer}/.well-known/jwks.json` }),
    healthzDuringLogins: async (duration) => {
      const [logins, health] = await Promise.all([
        cannon({
          url: `${issuer}/oauth/token`,
          method: 'POST',
          headers: formHeaders(WEB),
          body: form({ grant_type: 'password', username: USER.username, password: USER.password }),
          connections: 32,
          duration,
        }),
        (async () => {
          await sleep(300) // let the logins saturate first
          return cannon({ url: `${issuer}/healthz`, connections: 2, duration: Math.max(1, duration - 0.5) })
        })(),
        (async () => {
          await sleep(300)
          return cannon({
            url: `${issuer}/.well-known/jwks.json`,
            connections: 2,
            duration: Math.max(1, duration - 0.5),
          })
        })(),
      ]).then(([logins, health, jwks]) => [logins, { ...health, jwksRps: jwks.rps, jwksP99: jwks.p99 }])
      return { ...health, loginsRps: logins.rps }
    },
  }

  /**
   * A scenario and the baselines and peers it is compared with take turns in short slices (A B C A B C …) rather
   * than one long run each: on a shared VM the speed of loopback HTTP drifts by 2× within minutes, and interleaving
   * exposes every member of a group to the same drift, so the per-round ratios measure the servers, not the moment.
   */
  const groups = [
    ['hello', 'resourceApi', 'fastifyJwt'],
    ['signToken', 'tokenClientCredentials', 'oidcClientCredentials', 'refreshRotation', 'oidcRefresh'],
    ['passwordLogin'],
    ['jwks'],
    ['healthzDuringLogins'],
  ]
  const SLICES = SMOKE ? 1 : 4

  /** One round's figures from its slices: throughput and error share over all of them, latencies the worst slice. */
  const combine = (slices) => {
    if (slices.length === 1) return slices[0]
    const mean = (field) => slices.reduce((a, r) => a + r[field], 0) / slices.length
    const merged = { ...slices[0] }
    for (const field of ['rps', 'errorShare', 'jwksRps', 'loginsRps']) if (field in merged) merged[field] = mean(field)
    for (const field of ['p50', 'p99', 'jwksP99']) {
      if (field in merged) merged[field] = Math.max(...slices.map((r) => r[field]))
    }
    merged.non2xx = slices.reduce((a, r) => a + r.non2xx, 0)
    return merged
  }

  const only = process.argv
    .find((a) => a.startsWith('--only='))
    ?.slice(7)
    .split(',')
  const results = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const group of groups) {
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

  if (only) {
    for (const name of only) log(name, JSON.stringify(results[name]))
    await stopAll()
    await redis.stop()
    process.exit(0)
  }

  // Cold start: process spawn to the first successful readiness answer, the targets interleaved sample by sample
  // (so a noisy moment hurts all of them alike), with the load servers stopped.
  // (the auth server stays up: the resource API is ready once it has loaded the JWKS from it).
  for (const server of servers.splice(0)) {
    if (server === auth) servers.push(server)
    else await server.stop()
  }
  const cold = {}

  const coldTargets = {
    helloFastify: [path.join(here, 'servers/hello.mjs'), {}, '/'],
    authMemory: [authEntry, { ...quiet, BOOTSTRAP_FILE: clientsOnly, KEYS_DIR: path.join(dir, 'keys') }, '/readyz'],
    authRedis: [
      authEntry,
      {
        ...quiet,
        BOOTSTRAP_FILE: clientsOnly,
        KEYS_DIR: path.join(dir, 'keys'),
        REDIS_URL: redis.url,
        REDIS_PREFIX: 'cold:',
      },
      '/readyz',
    ],
    resourceApi: [apiEntry, { ...quiet, ISSUER: issuer, AUDIENCE }, '/readyz'],
    oidcProvider: [path.join(here, 'servers/oidc-provider.mjs'), {}, '/.well-known/openid-configuration'],
  }
  const coldSamples = Object.fromEntries(Object.keys(coldTargets).map((k) => [k, []]))
  for (let i = 0; i < STARTS; i++) {
    for (const [name, [entry, env, readyPath]] of Object.entries(coldTargets)) {
      const server = await startProcess(entry, { env, readyPath })
      coldSamples[name].push(server.startupMs)
      await server.stop()
      await sleep(100)
    }
  }
  for (const [name, samples] of Object.entries(coldSamples)) {
    cold[name] = median(samples)
    log(`cold start ${name}: ${Math.round(cold[name])} ms (median of ${STARTS})`)
  }

  // Redis memory per live session (bench/session-memory.mjs, its own redis-server).
  const memory = JSON.parse(
    execFileSync(process.execPath, [path.join(here, 'session-memory.mjs'), String(SMOKE ? 1000 : 10_000)], {
      encoding: 'utf8',
    }),
  )
  log(`redis memory per session: ${memory.bytesPerSession} bytes`)

  // --- report --------------------------------------------------------------------------------------------------
  // Throughput counts successful answers only. Ratios are taken within each round (the two interleaved slice by
  // slice), then the median over rounds.
  for (const rs of Object.values(results)) for (const r of rs) r.okRps = r.rps * (1 - r.errorShare)
  const m = (name, field = 'okRps') => median(results[name].map((r) => r[field]))
  const ratio = (a, b) => median(results[a].map((r, i) => r.okRps / results[b][i].okRps))
  const rows = [
    ['bare Fastify hello', 'hello', 'baseline'],
    ['resource API protected route (`GET /v1/me`)', 'resourceApi', 'Tollgate'],
    ['`@fastify/jwt` verifying each request', 'fastifyJwt', 'peer'],
    ['bare Fastify `/token` signing with jose', 'signToken', 'baseline'],
    ['token endpoint, client_credentials (Redis)', 'tokenClientCredentials', 'Tollgate'],
    ['oidc-provider client_credentials (JWT AT)', 'oidcClientCredentials', 'peer'],
    ['refresh grant with rotation in Redis', 'refreshRotation', 'Tollgate'],
    ['oidc-provider refresh grant (rotating)', 'oidcRefresh', 'peer'],
    ['password login (argon2id), 32 connections', 'passwordLogin', 'Tollgate'],
    ['JWKS', 'jwks', 'Tollgate'],
  ]
  const goals = [
    ['Resource API ≥ 0.8× bare Fastify hello', ratio('resourceApi', 'hello'), 0.8],
    ['Resource API ≥ 3× `@fastify/jwt`', ratio('resourceApi', 'fastifyJwt'), 3],
    ['client_credentials ≥ 0.8× bare signing `/token`', ratio('tokenClientCredentials', 'signToken'), 0.8],
    ['client_credentials ≥ 2× oidc-provider', ratio('tokenClientCredentials', 'oidcClientCredentials'), 2],
    ['refresh with rotation in Redis ≥ 0.7× bare signing `/token`', ratio('refreshRotation', 'signToken'), 0.7],
    ['p99 of `/healthz` during 32 concurrent logins < 20 ms', m('healthzDuringLogins', 'p99'), 20, 'max'],
    ['auth server cold start (in-memory) ≤ 1.5× bare Fastify', cold.authMemory / cold.helloFastify, 1.5, 'max'],
    ['auth server cold start (Redis) ≤ 1.5× bare Fastify', cold.authRedis / cold.helloFastify, 1.5, 'max'],
    ['Redis memory per live session < 600 bytes', memory.bytesPerSession, 600, 'max'],
  ]
  const met = ([, value, target, kind]) => (kind === 'max' ? value <= target : value >= target)
  const fmt = (v) => (v >= 100 ? String(Math.round(v)) : v.toFixed(2))

  const versions = {}
  for (const [name, pkg] of [
    ['fastify', 'fastify'],
    ['jose', 'jose'],
    ['ioredis', 'ioredis'],
    ['oidc-provider', 'oidc-provider'],
    ['@fastify/jwt', '@fastify/jwt'],
    ['autocannon', 'autocannon'],
  ]) {
    try {
      versions[name] = JSON.parse(await readFile(path.join(here, 'node_modules', pkg, 'package.json'), 'utf8')).version
    } catch {
      versions[name] = '?'
    }
  }
  const lines = []
  lines.push('# Tollgate benchmark results', '')
  lines.push(
    `Run ${new Date().toISOString()} with \`pnpm bench\`: ${ROUNDS} rounds × ${DURATION} s per scenario; throughput is the median of successful answers per second, each ratio the median of the per-round ratios (within a round a scenario and the baselines and peers it is compared with take turns in ${SLICES} slices of ${DURATION / SLICES} s, so they meet the same drift of the host); latencies are the worst slice's; autocannon, 100 connections unless noted, all on loopback.`,
    '',
  )
  lines.push(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; Redis ${redis.version}.`,
  )
  lines.push(
    `Versions: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
  )
  lines.push(
    'Setup: Tollgate runs as in production (Redis store, request logging at `warn` like the baselines, which log nothing; the per-IP token rate limit off because every request here comes from one IP). Redis without persistence; with `appendfsync always` every write also waits for fsync.',
    '',
  )
  lines.push('## Goals', '', '| goal | measured | target | met |', '|---|---|---|---|')
  for (const goal of goals)
    lines.push(
      `| ${goal[0]} | ${fmt(goal[1])}${goal[3] === 'max' && goal[2] === 20 ? ' ms' : goal[0].includes('bytes') ? ' B' : goal[0].includes('cold') ? '×' : '×'} | ${goal[3] === 'max' ? '≤' : '≥'} ${goal[2]} | ${met(goal) ? 'yes' : '**no**'} |`,
    )
  lines.push(
    '',
    '## Throughput',
    '',
    '| scenario | kind | req/s | p50 ms | p99 ms | non-2xx |',
    '|---|---|---|---|---|---|',
  )
  for (const [label, key, kind] of rows) {
    lines.push(
      `| ${label} | ${kind} | ${Math.round(m(key))} | ${m(key, 'p50')} | ${m(key, 'p99')} | ${results[key].reduce((a, r) => a + r.non2xx, 0)} |`,
    )
  }
  lines.push(
    `| \`/healthz\` during 32 concurrent logins (2 connections) | Tollgate | ${Math.round(m('healthzDuringLogins'))} | ${m('healthzDuringLogins', 'p50')} | ${m('healthzDuringLogins', 'p99')} | ${results.healthzDuringLogins.reduce((a, r) => a + r.non2xx, 0)} |`,
  )
  lines.push(
    `| JWKS during the same logins (2 connections) | Tollgate | ${Math.round(m('healthzDuringLogins', 'jwksRps'))} | | ${m('healthzDuringLogins', 'jwksP99')} | |`,
  )
  lines.push(`| … logins meanwhile | Tollgate | ${Math.round(m('healthzDuringLogins', 'loginsRps'))} | | | |`)
  lines.push(
    '',
    '## The baselines on this machine',
    '',
    'The goals were set from anchors measured elsewhere; how the baselines compare to each other here decides how far the ratios can go:',
    '',
    `- \`@fastify/jwt\` ran at ${ratio('fastifyJwt', 'hello').toFixed(2)}× bare Fastify hello (anchor 0.24×): a resource route at 3× \`@fastify/jwt\` would need ${(3 * ratio('fastifyJwt', 'hello')).toFixed(2)}× hello${3 * ratio('fastifyJwt', 'hello') > 1 ? ', faster than a route that checks nothing' : ''}.`,
    `- oidc-provider's client_credentials ran at ${ratio('oidcClientCredentials', 'signToken').toFixed(2)}× the bare signing \`/token\` (anchor 0.47×): 2× oidc-provider would need ${(2 * ratio('oidcClientCredentials', 'signToken')).toFixed(2)}× a server that does nothing but sign, where RSA-2048 signing alone bounds both.`,
  )

  lines.push(
    '',
    `## Cold start (spawn to first successful readiness answer, median of ${STARTS})`,
    '',
    '| process | ms | × bare Fastify |',
    '|---|---|---|',
  )
  for (const [name, ms] of Object.entries(cold))
    lines.push(`| ${name} | ${Math.round(ms)} | ${(ms / cold.helloFastify).toFixed(2)} |`)
  lines.push(
    '',
    '## Redis memory',
    '',
    `${memory.bytesPerSession} bytes per live session over ${memory.sessions} sessions (one per user, each rotated once; \`used_memory\` delta; the family hash is \`${memory.familyKeyEncoding}\`-encoded, ${memory.familyKeyMemoryUsage} bytes by \`MEMORY USAGE\`).`,
  )
  const report = `${lines.join('\n')}\n`
  process.stdout.write(`\n${report}`)
  const allMet = goals.every(met)
  if (!SMOKE) await writeFile(path.join(here, 'RESULTS.md'), report)
  // Tollgate's own scenarios must answer only 2xx; peers' errors are reported, not fatal.
  const ours = new Set(rows.filter(([, , kind]) => kind !== 'peer').map(([, key]) => key))
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
