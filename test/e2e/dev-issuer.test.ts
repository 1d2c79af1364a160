// `tollgate dev` driven from outside Node: a Python test suite (standard library only) uses the test issuer the way a
// Go or Java service's tests would — discovery, tokens, minted claims, the clock, key rotation, sessions, reset.
import { spawn } from 'node:child_process'
import t from 'tap'
import { freePort } from '../support/ports.js'
import { reapOnExit } from '../support/processes.js'
import { ROOT, spawnService } from '../support/services.js'

const port = await freePort()
const url = `http://127.0.0.1:${port}`
const dev = await spawnService(`${ROOT}packages/auth-server/bin/tollgate.js`, {
  port,
  args: ['dev', '--config', `${ROOT}test/examples/any-language/dev.json`, '--port', String(port)],
})
t.teardown(() => dev.stop())
t.test('the banner says what was registered and where the controls are', async (t) => {
  // Printed right after it listens; wait for the last line rather than race it.
  for (let i = 0; i < 100 && !/controls\s/.test(dev.output()); i++) await new Promise((r) => setTimeout(r, 20))
  const banner = dev.output()
  t.match(banner, new RegExp(`test issuer at ${url}`))
  t.match(banner, /client\s+test-client \/ [A-Za-z0-9_-]{43}/)
  t.match(banner, /client\s+web \(public\) password, refresh_token/)
  t.match(banner, /user\s+alice/)
  t.match(banner, /controls\s+.*\/_test .*loopback only/)
})

t.test('a Python unittest suite drives it over HTTP and passes', async (t) => {
  const python = reapOnExit(
    spawn('python3', [`${ROOT}test/examples/any-language/test_issuer.py`], {
      env: { ...process.env, TOLLGATE_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  let output = ''
  python.stdout.on('data', (d) => {
    output += d
  })
  python.stderr.on('data', (d) => {
    output += d
  })
  const code = await new Promise<number | null>((resolve) => python.once('exit', resolve))
  t.equal(code, 0, output)
  t.match(output, /Ran 5 tests/)
  t.match(output, /\nOK\n/)
})

t.test('a bad config file is one line with its line and column', async (t) => {
  const { writeFile, mkdtemp } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const path = await import('node:path')
  const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-dev-'))
  const file = path.join(dir, 'dev.json')
  await writeFile(file, '{\n  "clients": [],\n  users: []\n}\n')
  const bad = reapOnExit(
    spawn(process.execPath, [`${ROOT}packages/auth-server/bin/tollgate.js`, 'dev', '--config', file, '--port', '0']),
  )
  let stderr = ''
  bad.stderr.on('data', (d) => {
    stderr += d
  })
  const code = await new Promise<number | null>((resolve) => bad.once('exit', resolve))
  t.equal(code, 1)
  t.match(stderr, new RegExp(`^tollgate: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:3: not valid JSON`))
  await writeFile(file, '{ "clientz": [] }')
  const unknown = reapOnExit(
    spawn(process.execPath, [`${ROOT}packages/auth-server/bin/tollgate.js`, 'dev', '--config', file]),
  )
  let err2 = ''
  unknown.stderr.on('data', (d) => {
    err2 += d
  })
  t.equal(await new Promise<number | null>((resolve) => unknown.once('exit', resolve)), 1)
  t.match(err2, /unknown field "clientz"/)
})
