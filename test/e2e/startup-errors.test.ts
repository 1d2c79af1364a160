// What an operator sees when the setup is wrong: one line naming the variable or file to fix, never a stack trace.
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { freePort } from '../support/ports.js'
import { reapOnExit } from '../support/processes.js'
import { ROOT } from '../support/services.js'

const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-startup-'))
const baseEnv: Record<string, string> = { LOG_LEVEL: 'warn', KEYS_DIR: path.join(dir, 'keys') }
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('REDIS')) baseEnv[k] ??= v

/** Runs a command to its exit (bounded), with stdout and stderr. */
function run(args: string[], env: Record<string, string>, stopWhen?: RegExp) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = reapOnExit(
      spawn(process.execPath, args, {
        cwd: ROOT,
        env: { ...baseEnv, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    )
    let out = ''
    const seen = (d: Buffer) => {
      out += d
      if (stopWhen?.test(out)) child.kill('SIGTERM')
    }
    child.stdout.on('data', seen)
    child.stderr.on('data', seen)
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, out })
    })
  })
}
const auth = (env: Record<string, string>, stopWhen?: RegExp) =>
  run(['packages/auth-server/dist/server.bundle.js'], { PORT: '0', ...env }, stopWhen)
const noStack = (t: Test, out: string) => t.notMatch(out, /\n\s+at /, 'no stack trace')

t.test('pnpm start: a bad or taken port names its variable, before anything starts', async (t) => {
  const bad = await run(['scripts/start-all.mjs'], { AUTH_PORT: 'abc' })
  t.equal(bad.code, 1)
  t.equal(bad.out, 'pnpm start: AUTH_PORT=abc: must be a port number (1-65535)\n')
  const taken = createServer()
  const port = await new Promise<number>((resolve) =>
    taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
  )
  t.teardown(() => taken.close())
  // `pnpm start` runs it with --build: a taken port is said before the build starts, not after it.
  const busy = await run(['scripts/start-all.mjs', '--build'], {
    API_PORT: String(port),
    AUTH_PORT: String(await freePort()),
  })
  t.equal(busy.code, 1)
  t.match(busy.out, new RegExp(`^pnpm start: API_PORT=${port}: the port is already in use`))
  t.notMatch(busy.out, /building/, 'nothing was built')
  const server = await auth({ PORT: String(port) })
  t.equal(server.code, 1)
  t.match(server.out, new RegExp(`tollgate: PORT=${port}: the port is already in use \\(set PORT to another port\\)`))
  noStack(t, server.out)
})

t.test('an unreachable Redis names REDIS_URL (without its password)', async (t) => {
  const res = await auth({ REDIS_URL: 'redis://admin:s3cret-pw@127.0.0.1:1' })
  t.equal(res.code, 1)
  t.match(res.out, /^tollgate: REDIS_URL \(redis:\/\/127\.0\.0\.1:1\): /m)
  t.notMatch(res.out, /s3cret-pw/)
  noStack(t, res.out)
})

t.test('a malformed BOOTSTRAP_FILE gives its line and column; an unknown client field is named', async (t) => {
  const file = path.join(dir, 'bootstrap.json')
  await writeFile(file, '{\n  "clients": [],\n  users: []\n}\n')
  const res = await auth({ BOOTSTRAP_FILE: file })
  t.equal(res.code, 1)
  t.match(res.out, `tollgate: BOOTSTRAP_FILE ${file}:3:3: not valid JSON`)
  const typo = path.join(dir, 'typo.json')
  await writeFile(
    typo,
    JSON.stringify({
      clients: [
        { client_id: 'a', public: true, grant_types: ['password'], audiences: ['https://x'], redirect_uri: [] },
      ],
      users: [],
    }),
  )
  const unknown = await auth({ BOOTSTRAP_FILE: typo })
  t.equal(unknown.code, 1)
  t.match(unknown.out, /client a: unknown field "redirect_uri"/)
})

t.test('the shipped example secrets start with a loud warning', async (t) => {
  const res = await auth(
    { BOOTSTRAP_FILE: path.join(ROOT, 'deploy/bootstrap.example.json') },
    /WARNING[\s\S]*Replace them/,
  )
  t.match(
    res.out,
    /WARNING: .*bootstrap\.example\.json still has its example secrets \(client demo-service, user demo\)/,
  )
})

t.test('a resource or a client asking for an algorithm outside SIGNING_ALGS stops startup naming it', async (t) => {
  /** The line the server stopped with (the last: a warning may precede it). */
  const lastLine = (out: string) => out.trimEnd().split('\n').at(-1)
  const resource = path.join(dir, 'resource-alg.json')
  await writeFile(
    resource,
    JSON.stringify({ resources: [{ audience: 'https://inventory.internal', access_token_signing_alg: 'ES256' }] }),
  )
  const res = await auth({ BOOTSTRAP_FILE: resource })
  t.equal(res.code, 1)
  t.equal(
    lastLine(res.out),
    `tollgate: BOOTSTRAP_FILE ${resource}: resource https://inventory.internal: access_token_signing_alg ES256 is not in SIGNING_ALGS (RS256)`,
  )
  const client = path.join(dir, 'client-alg.json')
  await writeFile(
    client,
    JSON.stringify({
      clients: [
        {
          client_id: 'web',
          public: true,
          grant_types: ['password'],
          audiences: ['https://x'],
          id_token_signed_response_alg: 'EdDSA',
        },
      ],
    }),
  )
  const bad = await auth({ BOOTSTRAP_FILE: client, SIGNING_ALGS: 'RS256,ES256' })
  t.equal(bad.code, 1)
  t.equal(
    lastLine(bad.out),
    `tollgate: BOOTSTRAP_FILE ${client}: client web: id_token_signed_response_alg EdDSA is not in SIGNING_ALGS (RS256,ES256)`,
  )
  const env = await auth({ SIGNING_ALGS: 'RS256,HS256' })
  t.equal(env.code, 1)
  t.equal(env.out, 'tollgate: invalid configuration: SIGNING_ALGS: "HS256" is not one of RS256, ES256, EdDSA\n')
  noStack(t, `${res.out}${bad.out}${env.out}`)
})

t.test(
  'issue 21: every service names a bad LOG_LEVEL in one line, the demo web app and tollgate dev included',
  async (t) => {
    const entries: [string, string[]][] = [
      ['tollgate: invalid configuration: LOG_LEVEL: must be one of', ['packages/auth-server/dist/server.bundle.js']],
      [
        'resource-api: invalid configuration: LOG_LEVEL: must be one of',
        ['packages/resource-api/dist/server.bundle.js'],
      ],
      ['demo-web: invalid configuration: LOG_LEVEL: must be one of', ['packages/demo-web/dist/server.js']],
      ['tollgate: LOG_LEVEL: must be one of', ['packages/auth-server/bin/tollgate.js', 'dev', '--port', '0']],
    ]
    for (const [line, args] of entries) {
      const res = await run(args, { PORT: '0', LOG_LEVEL: 'loud' })
      t.equal(res.code, 1, String(args[0]))
      t.equal(res.out.trim().split('\n').length, 1, `${args[0]}: one line (${res.out.trim()})`)
      t.match(res.out, line)
      noStack(t, res.out)
    }
  },
)
