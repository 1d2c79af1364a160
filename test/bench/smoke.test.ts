// `pnpm bench` cannot rot: CI runs every scenario for a second (--smoke). Speed is judged by the full run
// (bench/RESULTS.md), never here; this only checks that each scenario runs and Tollgate answers it without errors.
import t from 'tap'
import { startProcess } from '../support/processes.js'
import { ROOT } from '../support/services.js'

t.test('node bench/run.mjs --smoke runs every scenario and prints every goal', async (t) => {
  // Its own process group: the servers it starts go with it, whatever happens.
  const bench = startProcess(process.execPath, ['bench/run.mjs', '--smoke'], { cwd: ROOT })
  t.teardown(() => bench.stop())
  const timer = setTimeout(() => void bench.stop('SIGKILL'), 150_000)
  const code = await bench.exited
  clearTimeout(timer)
  const stdout = bench.output()
  t.equal(code, 0, stdout.slice(-2000))
  for (const goal of [
    'Resource API ≥ 0.8× bare Fastify hello',
    'Resource API ≥ 3× `@fastify/jwt`',
    'client_credentials ≥ 0.8× bare signing `/token`',
    'client_credentials ≥ 2× oidc-provider',
    'refresh with rotation in Redis ≥ 0.7× bare signing `/token`',
    'p99 of `/healthz` during 32 concurrent logins < 20 ms',
    'auth server cold start (in-memory) ≤ 1.5× bare Fastify',
    'Redis memory per live session < 600 bytes',
    'resource API following revocations',
    'revoke-to-deny p99 at 3 verifiers under load < 1000 ms',
    'memory per denial ≤ 200 bytes',
    'resource API with DPoP (ES256, a fresh proof per request) ≥ 0.5× the bearer route',
    'resource API with DPoP (EdDSA, a fresh proof per request) ≥ 0.5× the bearer route',
    'client_credentials with DPoP ≥ 0.8× without',
    'token exchange ≥ 0.8× bare signing `/token`',
    '`createTestIssuer()` after the first in a process (median of 20) < 50 ms',
    'Test issuer start',
    'verifying one ES256 signature costs',
    'client_credentials, ES256 audience ≥ 2× RS256',
    'client_credentials, ES256 audience ≥ 0.9× bare signing ES256 `/token`',
    'client_credentials, EdDSA audience ≥ 2× RS256',
    'client_credentials, EdDSA audience ≥ 0.9× bare signing EdDSA `/token`',
    'resource API with ES256 tokens ≥ 0.95× with RS256 tokens',
    'Signing algorithms on this machine',
    'client_credentials with private_key_jwt (ES256) ≥ 0.8× with client_secret_basic',
    "the assertion's ES256 signature check alone",
    "the gate's decision for a cached token ≥ 0.9× the resource API's `/v1/me`",
    'p50 the gate adds through nginx at 50 connections ≤ 1 ms',
  ]) {
    t.match(stdout, goal, `reports: ${goal}`)
  }
})
