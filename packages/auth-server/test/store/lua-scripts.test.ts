// The typed Lua boundary: every lua/*.lua file and every script spec match one to one — the command name, NUMKEYS
// in the file name, and the KEYS and ARGV its header documents.
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { fileOf, loadSources, SCRIPTS, type ScriptName } from '../../src/store/redis/scripts.js'

const dir = new URL('../../src/store/redis/lua/', import.meta.url)
const files = readdirSync(dir).filter((f) => f.endsWith('.lua'))
const names = Object.keys(SCRIPTS) as ScriptName[]
const camel = (file: string) =>
  file.replace(/-\d+\.lua$/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())

t.test('every file has a spec under its own name, and every spec a file', async (t) => {
  t.same(files.map(camel).sort(), [...names].sort())
  t.same(names.map(fileOf).sort(), [...files].sort())
})

for (const name of names) {
  t.test(`${fileOf(name)}: its header lists the spec's keys and arguments`, async (t) => {
    const header = /--\[\[([\s\S]*?)\]\]/.exec(readFileSync(new URL(fileOf(name), dir), 'utf8'))?.[1] ?? ''
    const listed = (kind: 'KEYS' | 'ARGV') =>
      [...header.matchAll(new RegExp(`^\\s*${kind}\\[(\\d+)\\]`, 'gm'))].map((m) => Number(m[1]))
    const { keys, args } = SCRIPTS[name]
    t.same(
      listed('KEYS'),
      keys.map((_, i) => i + 1),
      `KEYS[1..${keys.length}] (NUMKEYS in the file name)`,
    )
    t.same(
      listed('ARGV'),
      args.map((_, i) => i + 1),
      `ARGV[1..${args.length}]: ${args.join(', ')}`,
    )
    t.match(header, /Output:/, 'and says what it returns')
  })
}

t.test('a spec without its file, or a file without a spec, stops the server at startup', async (t) => {
  t.equal(loadSources().size, names.length)
  const { mkdtemp, writeFile, rm, cp } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const path = await import('node:path')
  const copy = await mkdtemp(path.join(tmpdir(), 'tollgate-lua-'))
  t.teardown(() => rm(copy, { recursive: true, force: true }))
  await cp(dir, copy, { recursive: true })
  await writeFile(path.join(copy, 'stray-1.lua'), 'return 1')
  t.throws(() => loadSources(new URL(`file://${copy}/`)), /stray-1\.lua/)
  await rm(path.join(copy, 'stray-1.lua'))
  await rm(path.join(copy, fileOf('revokeSession')))
  t.throws(() => loadSources(new URL(`file://${copy}/`)), /revoke-session-2\.lua/)
})
