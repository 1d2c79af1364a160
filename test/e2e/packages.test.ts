// The packages as a team installs them: each `pnpm pack` tarball installed with npm into a fresh project outside the
// repository, then used there — a Fastify route protected by @tollgate/shared, tokens from the test issuer of
// @tollgate/auth-server/testing, the `tollgate` bin, and the type declarations every export names.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { ROOT } from '../support/services.js'

const run = promisify(execFile)
const project = await mkdtemp(path.join(tmpdir(), 'tollgate-install-'))
const packs = path.join(project, 'packs')

const tarballs: string[] = []
for (const pkg of ['shared', 'auth-server']) {
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', packs], { cwd: path.join(ROOT, 'packages', pkg) })
  tarballs.push(stdout.trim().split('\n').at(-1) as string)
}
await writeFile(
  path.join(project, 'package.json'),
  JSON.stringify({ name: 'a-team-service', private: true, type: 'module' }),
)
// argon2's prebuilt binary is not trusted on every machine (see the README): build it as the repository does.
await writeFile(path.join(project, '.npmrc'), 'build-from-source=true\n')
await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, 'fastify@5'], {
  cwd: project,
  timeout: 160_000,
  maxBuffer: 16 * 1024 * 1024,
})

t.test('installed: a protected Fastify route and the test issuer work outside the repository', async (t) => {
  await writeFile(
    path.join(project, 'service.test.mjs'),
    `import { createTestIssuer } from '@tollgate/auth-server/testing'
import { tollgate } from '@tollgate/shared'
import Fastify from 'fastify'

const issuer = await createTestIssuer({ audience: 'https://orders.test', scopes: ['orders:read'] })
const app = Fastify()
await app.register(tollgate, { issuer: issuer.url, audience: 'https://orders.test' })
app.get('/orders', { onRequest: app.requireScope('orders:read') }, async (req) => ({ for: req.auth.subject }))
const ok = await app.inject({ url: '/orders', headers: { authorization: 'Bearer ' + (await issuer.mintAccessToken({ sub: 'alice', scope: 'orders:read' })) } })
const denied = await app.inject({ url: '/orders', headers: { authorization: 'Bearer ' + (await issuer.mintAccessToken({ scope: 'profile' })) } })
const missing = await app.inject({ url: '/orders' })
console.log(JSON.stringify({ ok: [ok.statusCode, ok.json()], denied: denied.statusCode, missing: missing.statusCode }))
await app.close()
await issuer.close()
`,
  )
  const { stdout } = await run(process.execPath, ['service.test.mjs'], { cwd: project, timeout: 60_000 })
  t.same(JSON.parse(stdout), { ok: [200, { for: 'alice' }], denied: 403, missing: 401 })
})

t.test('installed: the tollgate bin runs', async (t) => {
  const { stdout } = await run(path.join(project, 'node_modules/.bin/tollgate'), ['--help'], { cwd: project })
  t.match(stdout, /Usage: tollgate/)
  t.match(stdout, /dev\b/)
})

t.test('installed: every export has its types, and the packages say what a registry needs', async (t) => {
  for (const pkg of ['@tollgate/shared', '@tollgate/auth-server']) {
    const dir = path.join(project, 'node_modules', pkg)
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'))
    t.equal(manifest.license, 'MIT', `${pkg}: license`)
    t.ok(existsSync(path.join(dir, 'LICENSE')), `${pkg}: LICENSE file`)
    t.match(manifest.engines?.node, />=20/, `${pkg}: engines`)
    t.match(manifest.version, /^\d+\.\d+\.\d+/, `${pkg}: version`)
    for (const [subpath, target] of Object.entries(manifest.exports as Record<string, unknown>)) {
      if (typeof target !== 'object' || target === null) continue
      const { types, default: main } = target as { types: string; default: string }
      t.ok(existsSync(path.join(dir, types)), `${pkg}${subpath.slice(1)}: ${types}`)
      t.ok(existsSync(path.join(dir, main)), `${pkg}${subpath.slice(1)}: ${main}`)
    }
    t.notOk(JSON.stringify(manifest.dependencies ?? {}).includes('workspace:'), `${pkg}: no workspace: ranges`)
  }
})
