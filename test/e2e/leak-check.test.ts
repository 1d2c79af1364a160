// `pnpm test` ends by looking for processes the tests left running: a test that forgets one fails the run, and the
// process is named and killed (issue 21).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { startProcess } from '../support/processes.js'
import { ROOT } from '../support/services.js'

t.test('a process left behind by a test is named, killed, and fails the run', async (t) => {
  const run = startProcess(
    process.execPath,
    ['scripts/run-tests.mjs', '--include', 'test/fixtures/*.ts', 'test/fixtures/leaks-a-process.ts'],
    { cwd: ROOT },
  )
  t.teardown(() => run.stop())
  const code = await run.exited
  const out = run.output()
  t.match(out, /\nok 1 - test\/fixtures\/leaks-a-process\.ts/, 'the leaky test itself passed')
  t.equal(code, 1, 'but the run failed')
  const pid = Number(/still running; killed:\n\s+(\d+) sleep 120/.exec(out)?.[1])
  t.ok(pid > 0, `the leftover is named: ${out.slice(-300)}`)
  // Killed: gone, or a zombie waiting for an init that may not reap it in this sandbox.
  let state = 'gone'
  try {
    state = /State:\s+(\S)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'gone'
  } catch {}
  t.ok(state === 'gone' || state === 'Z', `and no longer runs (state ${state})`)
})
