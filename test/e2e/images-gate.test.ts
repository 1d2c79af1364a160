// The gate's Dockerfile build steps, run without Docker (scripts/check-images.sh gate): dependencies from the lockfile
// only, no devDependency in the final stage, and the final command answering its health check.
import t from 'tap'
import { startProcess } from '../support/processes.js'
import { ROOT } from '../support/services.js'

t.test('the gate image builds from the lockfile and its command starts', async (t) => {
  const script = startProcess('bash', [`${ROOT}scripts/check-images.sh`, 'gate'], { cwd: ROOT })
  t.teardown(() => script.stop())
  const timer = setTimeout(() => void script.stop('SIGKILL'), 170_000)
  const code = await script.exited
  clearTimeout(timer)
  const out = script.output()
  t.equal(code, 0, out)
  t.match(out, /gate: built from the lockfile, \S+ in the final stage, \/healthz answers/)
})
