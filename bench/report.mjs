// The bench report: every goal with its measured value, the throughput table, how the baselines compare on this
// machine, cold starts and Redis memory, as Markdown (bench/RESULTS.md).
import { createSign, generateKeyPairSync, sign, verify } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import path from 'node:path'
import { median } from './lib.mjs'
import { addedP50, NGINX_RATE } from './scenarios/gate.mjs'

/** Microseconds one signature operation takes on this machine, on one core (median of five batches). */
function microseconds(operation) {
  const batches = []
  for (let b = 0; b < 5; b++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < 200; i++) operation()
    batches.push(Number(process.hrtime.bigint() - start) / 200 / 1000)
  }
  return median(batches)
}

/**
 * What signing and verifying cost in CPU here, for the three signing algorithms: the floor under the DPoP ratios,
 * and what moving an audience from RS256 to ES256 or EdDSA trades (cheaper signing at the issuer, dearer uncached
 * verification at each service).
 */
function cryptoCosts() {
  const data = Buffer.alloc(400, 1)
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ed = generateKeyPairSync('ed25519')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const ecKey = (key) => ({ key, dsaEncoding: 'ieee-p1363' })
  const ecSig = sign('sha256', data, ecKey(ec.privateKey))
  const edSig = sign(null, data, ed.privateKey)
  const rsaSig = sign('sha256', data, rsa.privateKey)
  return {
    es256Verify: microseconds(() => verify('sha256', data, ecKey(ec.publicKey), ecSig)),
    eddsaVerify: microseconds(() => verify(null, data, ed.publicKey, edSig)),
    rs256Verify: microseconds(() => verify('sha256', data, rsa.publicKey, rsaSig)),
    rs256Sign: microseconds(() => createSign('sha256').update(data).sign(rsa.privateKey)),
    es256Sign: microseconds(() => sign('sha256', data, ecKey(ec.privateKey))),
    eddsaSign: microseconds(() => sign(null, data, ed.privateKey)),
  }
}

/**
 * Builds the report from the figures of a run. `results` maps each scenario to its per-round figures, `cold` the
 * cold starts (ms), `memory` the session-memory measurement; `settings` says how the run was made.
 */
export async function buildReport({
  here,
  results,
  cold,
  memory,
  revocation = {},
  issuerStart,
  tokenSizes,
  denials = 0,
  redisVersion,
  settings,
}) {
  const { ROUNDS, DURATION, SLICES, STARTS } = settings
  // Throughput counts successful answers only. Ratios are taken within each round (the two interleaved slice by
  // slice), then the median over rounds.
  for (const rs of Object.values(results)) for (const r of rs) r.okRps = r.rps * (1 - r.errorShare)
  const m = (name, field = 'okRps') => median(results[name].map((r) => r[field]))
  const ratio = (a, b) => median(results[a].map((r, i) => r.okRps / results[b][i].okRps))
  const rows = [
    ['bare Fastify hello', 'hello', 'baseline'],
    ['resource API protected route (`GET /v1/me`)', 'resourceApi', 'Tollgate'],
    ['… with ES256 tokens (an ES256 audience)', 'resourceApiES256', 'Tollgate'],
    ['… with `REVOCATION_EVENTS=off`', 'resourceApiNoRevocation', 'Tollgate'],
    ['… DPoP-bound, a fresh ES256 proof per request', 'resourceApiDpopES256', 'Tollgate'],
    ['… DPoP-bound, a fresh EdDSA proof per request', 'resourceApiDpopEdDSA', 'Tollgate'],
    ['`@fastify/jwt` verifying each request', 'fastifyJwt', 'peer'],
    ['bare Fastify `/token` signing with jose', 'signToken', 'baseline'],
    ['token endpoint, client_credentials (Redis)', 'tokenClientCredentials', 'Tollgate'],
    ['bare Fastify `/token` signing ES256 with jose', 'signTokenES256', 'baseline'],
    ['… client_credentials for an ES256 audience', 'tokenClientCredentialsES256', 'Tollgate'],
    ['bare Fastify `/token` signing EdDSA with jose', 'signTokenEdDSA', 'baseline'],
    ['… client_credentials for an EdDSA audience', 'tokenClientCredentialsEdDSA', 'Tollgate'],
    [
      'client_credentials with private_key_jwt (a fresh ES256 assertion per request)',
      'tokenClientCredentialsPrivateKeyJwt',
      'Tollgate',
    ],
    ['… with a DPoP proof (ES256) per request', 'tokenClientCredentialsDpop', 'Tollgate'],
    ['token exchange (RFC 8693) of a user token (Redis)', 'tokenExchange', 'Tollgate'],
    ['oidc-provider client_credentials (JWT AT)', 'oidcClientCredentials', 'peer'],
    ['refresh grant with rotation in Redis', 'refreshRotation', 'Tollgate'],
    ['oidc-provider refresh grant (rotating)', 'oidcRefresh', 'peer'],
    ['password login (argon2id), 32 connections', 'passwordLogin', 'Tollgate'],
    ['JWKS', 'jwks', 'Tollgate'],
    ["the gate's decision (`/verify` as nginx calls it, a token it has verified before)", 'gateVerify', 'Tollgate'],
    [`nginx proxying bare Fastify hello, 50 connections at ${NGINX_RATE} req/s`, 'nginxPlain', 'baseline'],
    ['… asking the gate first (docs/gate.md’s configuration)', 'nginxGate', 'Tollgate'],
  ]
  const goals = [
    ['Resource API ≥ 0.8× bare Fastify hello', ratio('resourceApi', 'hello'), 0.8, 'min', '×'],
    ['Resource API ≥ 3× `@fastify/jwt`', ratio('resourceApi', 'fastifyJwt'), 3, 'min', '×'],
    ['client_credentials ≥ 0.8× bare signing `/token`', ratio('tokenClientCredentials', 'signToken'), 0.8, 'min', '×'],
    ['client_credentials ≥ 2× oidc-provider', ratio('tokenClientCredentials', 'oidcClientCredentials'), 2, 'min', '×'],
    [
      'refresh with rotation in Redis ≥ 0.7× bare signing `/token`',
      ratio('refreshRotation', 'signToken'),
      0.7,
      'min',
      '×',
    ],
    ['p99 of `/healthz` during 32 concurrent logins < 20 ms', m('healthzDuringLogins', 'p99'), 20, 'max', ' ms'],
    ['auth server cold start (in-memory) ≤ 1.5× bare Fastify', cold.authMemory / cold.helloFastify, 1.5, 'max', '×'],
    ['auth server cold start (Redis) ≤ 1.5× bare Fastify', cold.authRedis / cold.helloFastify, 1.5, 'max', '×'],
    ['Redis memory per live session < 600 bytes', memory.bytesPerSession, 600, 'max', ' B'],
    [
      `resource API following revocations (holding ${denials} denials) ≥ 0.97× without`,
      ratio('resourceApi', 'resourceApiNoRevocation'),
      0.97,
      'min',
      '×',
    ],
  ]
  goals.push(
    [
      'resource API with DPoP (ES256, a fresh proof per request) ≥ 0.5× the bearer route',
      ratio('resourceApiDpopES256', 'resourceApi'),
      0.5,
      'min',
      '×',
    ],
    [
      'resource API with DPoP (EdDSA, a fresh proof per request) ≥ 0.5× the bearer route',
      ratio('resourceApiDpopEdDSA', 'resourceApi'),
      0.5,
      'min',
      '×',
    ],
    ['token exchange ≥ 0.8× bare signing `/token`', ratio('tokenExchange', 'signToken'), 0.8, 'min', '×'],
    [
      'client_credentials with DPoP ≥ 0.8× without',
      ratio('tokenClientCredentialsDpop', 'tokenClientCredentials'),
      0.8,
      'min',
      '×',
    ],
    [
      "the gate's decision for a cached token ≥ 0.9× the resource API's `/v1/me`",
      ratio('gateVerify', 'resourceApi'),
      0.9,
      'min',
      '×',
    ],
    ['p50 the gate adds through nginx at 50 connections ≤ 1 ms', addedP50(results), 1, 'max', ' ms'],
  )
  goals.push(
    [
      'client_credentials, ES256 audience ≥ 2× RS256',
      ratio('tokenClientCredentialsES256', 'tokenClientCredentials'),
      2,
      'min',
      '×',
    ],
    [
      'client_credentials, ES256 audience ≥ 0.9× bare signing ES256 `/token`',
      ratio('tokenClientCredentialsES256', 'signTokenES256'),
      0.9,
      'min',
      '×',
    ],
    [
      'client_credentials, EdDSA audience ≥ 2× RS256',
      ratio('tokenClientCredentialsEdDSA', 'tokenClientCredentials'),
      2,
      'min',
      '×',
    ],
    [
      'client_credentials, EdDSA audience ≥ 0.9× bare signing EdDSA `/token`',
      ratio('tokenClientCredentialsEdDSA', 'signTokenEdDSA'),
      0.9,
      'min',
      '×',
    ],
    [
      'resource API with ES256 tokens ≥ 0.95× with RS256 tokens',
      ratio('resourceApiES256', 'resourceApi'),
      0.95,
      'min',
      '×',
    ],
    [
      'client_credentials with private_key_jwt (ES256) ≥ 0.8× with client_secret_basic',
      ratio('tokenClientCredentialsPrivateKeyJwt', 'tokenClientCredentials'),
      0.8,
      'min',
      '×',
    ],
  )
  if (issuerStart) {
    goals.push(
      [
        '`createTestIssuer()` after the first in a process (median of 20) < 50 ms',
        issuerStart.tollgate.median,
        50,
        'max',
        ' ms',
      ],
      ['`createTestIssuer()`, the first in a process < 150 ms', issuerStart.tollgate.first, 150, 'max', ' ms'],
    )
  }
  if (revocation.latency) {
    goals.push(['revoke-to-deny p99 at 3 verifiers under load < 1000 ms', revocation.latency.p99, 1000, 'max', ' ms'])
  }
  if (revocation.memory)
    goals.push(['memory per denial ≤ 200 bytes', revocation.memory.bytesPerDenial, 200, 'max', ' B'])
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
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; Redis ${redisVersion}.`,
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
      `| ${goal[0]} | ${fmt(goal[1])}${goal[4]} | ${goal[3] === 'max' ? '≤' : '≥'} ${goal[2]} | ${met(goal) ? 'yes' : '**no**'} |`,
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
  const costs = cryptoCosts()
  const cores = cpus().length
  const bearerUs = (cores * 1e6) / m('resourceApi')
  const ccUs = (cores * 1e6) / m('tokenClientCredentials')
  lines.push(
    '',
    '## The baselines on this machine',
    '',
    'The goals were set from anchors measured elsewhere; how the baselines compare to each other here decides how far the ratios can go:',
    '',
    `- \`@fastify/jwt\` ran at ${ratio('fastifyJwt', 'hello').toFixed(2)}× bare Fastify hello (anchor 0.24×): a resource route at 3× \`@fastify/jwt\` would need ${(3 * ratio('fastifyJwt', 'hello')).toFixed(2)}× hello${3 * ratio('fastifyJwt', 'hello') > 1 ? ', faster than a route that checks nothing' : ''}.`,
    `- A bearer request to \`/v1/me\` cost ${bearerUs.toFixed(0)} µs of CPU (${cores} cores ÷ ${Math.round(m('resourceApi'))} req/s, load generator included); verifying one ES256 signature costs ${costs.es256Verify.toFixed(0)} µs and one Ed25519 signature ${costs.eddsaVerify.toFixed(0)} µs here, on one core. A fresh proof per request adds at least that, so DPoP at 0.5× the bearer route would need the whole proof check in ${bearerUs.toFixed(0)} µs: the ceiling from the signature alone is ${(bearerUs / (bearerUs + costs.es256Verify)).toFixed(2)}× (ES256) and ${(bearerUs / (bearerUs + costs.eddsaVerify)).toFixed(2)}× (EdDSA).`,
    `- A client_credentials request cost ${ccUs.toFixed(0)} µs of CPU (RS256 signing alone ${costs.rs256Sign.toFixed(0)} µs); its proof's ES256 verification alone caps the DPoP ratio at ${(ccUs / (ccUs + costs.es256Verify)).toFixed(2)}×, before the replay check's Redis \`SET NX\` and the thumbprint.`,
    `- A client_credentials request for an ES256 audience cost ${((cores * 1e6) / m('tokenClientCredentialsES256')).toFixed(0)} µs of CPU and for an EdDSA audience ${((cores * 1e6) / m('tokenClientCredentialsEdDSA')).toFixed(0)} µs, against ${ccUs.toFixed(0)} µs for RS256: the signature is ${costs.es256Sign.toFixed(0)} µs (ES256) or ${costs.eddsaSign.toFixed(0)} µs (EdDSA) instead of ${costs.rs256Sign.toFixed(0)} µs.`,
    `- With private_key_jwt a client_credentials request cost ${((cores * 1e6) / m('tokenClientCredentialsPrivateKeyJwt')).toFixed(0)} µs of CPU against ${ccUs.toFixed(0)} µs with a secret: the assertion's ES256 signature check alone (${costs.es256Verify.toFixed(0)} µs) is the floor, capping the ratio at ${(ccUs / (ccUs + costs.es256Verify)).toFixed(2)}×, before its Redis \`SET NX\` for the jti.`,
    `- oidc-provider's client_credentials ran at ${ratio('oidcClientCredentials', 'signToken').toFixed(2)}× the bare signing \`/token\` (anchor 0.47×): 2× oidc-provider would need ${(2 * ratio('oidcClientCredentials', 'signToken')).toFixed(2)}× a server that does nothing but sign, where RSA-2048 signing alone bounds both.`,
  )

  lines.push(
    '',
    '## The gate',
    '',
    `- Through nginx (docs/gate.md's configuration; one nginx process, 50 connections sending ${NGINX_RATE} requests a second in all, so the medians measure a request's work rather than a queue): median ${m('nginxPlain', 'p50Exact').toFixed(2)} ms without the gate, ${m('nginxGate', 'p50Exact').toFixed(2)} ms with it (p99 ${m('nginxPlain', 'p99Exact').toFixed(1)} / ${m('nginxGate', 'p99Exact').toFixed(1)} ms); the gate adds ${addedP50(results).toFixed(2)} ms at the median (the median of the rounds' differences).`,
    `- The gate's own decision for a cached token ran at ${ratio('gateVerify', 'resourceApi').toFixed(2)}× the resource API's \`/v1/me\` (the same verifier core; the gate parses the proxy's description of the request and answers with five headers instead of a JSON body).`,
  )
  lines.push(
    '',
    '## Signing algorithms on this machine',
    '',
    'One core, median of five batches of 200 operations over a 400-byte input (node:crypto, as Tollgate signs and verifies); the token size is the same client_credentials access token for an audience of each algorithm.',
    '',
    '| algorithm | sign µs | verify µs | access token bytes |',
    '|---|---|---|---|',
    `| RS256 (RSA-2048) | ${costs.rs256Sign.toFixed(0)} | ${costs.rs256Verify.toFixed(0)} | ${tokenSizes?.RS256 ?? ''} |`,
    `| ES256 (P-256) | ${costs.es256Sign.toFixed(0)} | ${costs.es256Verify.toFixed(0)} | ${tokenSizes?.ES256 ?? ''} |`,
    `| EdDSA (Ed25519) | ${costs.eddsaSign.toFixed(0)} | ${costs.eddsaVerify.toFixed(0)} | ${tokenSizes?.EdDSA ?? ''} |`,
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
  if (issuerStart) {
    const { tollgate, 'oauth2-mock-server': mock } = issuerStart
    lines.push(
      '',
      '## Test issuer start (after import, fresh process, median of 3 processes)',
      '',
      '| issuer | first in a process, ms | then, median of 20, ms |',
      '|---|---|---|',
      `| Tollgate \`createTestIssuer()\` (the real server, in memory) | ${tollgate.first.toFixed(0)} | ${tollgate.median.toFixed(0)} |`,
      `| oauth2-mock-server (\`keys.generate('RS256')\` + \`start()\`) | ${mock.first.toFixed(0)} | ${mock.median.toFixed(0)} |`,
    )
  }
  if (revocation.latency && revocation.fanOut) {
    const { latency, fanOut } = revocation
    lines.push(
      '',
      '## Revocation',
      '',
      `- Revoke-to-deny (the revoking answer to each verifier's first 401; three resource API processes, each serving autocannon load on \`/v1/me\`, ${latency.samples} samples): p50 ${Math.round(latency.p50)} ms, p99 ${Math.round(latency.p99)} ms, max ${Math.round(latency.max)} ms.`,
      `- Publishing: ${Math.round(fanOut.publishedPerSecond)} revocations/s answered by the auth server (access tokens revoked by 20 concurrent callers), fanned out to 50 SSE followers at ${Math.round(fanOut.deliveredPerSecond)} events/s; every follower had every event ${Math.round(fanOut.fanOutMs)} ms after the first revocation${fanOut.complete ? '' : ' (**incomplete**)'}.`,
      `- Memory: ${revocation.memory?.bytesPerDenial} bytes of heap per denial held by a verifier (${revocation.memory?.denials} session and jti denials, identifiers included).`,
    )
  }
  lines.push(
    '',
    '## Redis memory',
    '',
    `${memory.bytesPerSession} bytes per live session over ${memory.sessions} sessions (one per user, each rotated once; \`used_memory\` delta; the family hash is \`${memory.familyKeyEncoding}\`-encoded, ${memory.familyKeyMemoryUsage} bytes by \`MEMORY USAGE\`).`,
  )
  const allMet = goals.every(met)
  // Tollgate's own scenarios must answer only 2xx; peers' errors are reported, not fatal.
  const ours = new Set(rows.filter(([, , kind]) => kind !== 'peer').map(([, key]) => key))
  return { text: `${lines.join('\n')}\n`, allMet, ours }
}
