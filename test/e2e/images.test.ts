// The Dockerfiles' build steps, run without Docker (scripts/check-images.sh): dependencies from the lockfile only,
// no devDependency in the final stage, and each final command answering its health check (and `tollgate dev`).
import t from 'tap'
import { startProcess } from '../support/processes.js'
import { ROOT } from '../support/services.js'

t.test('every image builds from the lockfile and its command starts', async (t) => {
  // Its own process group: whatever the script started goes when it is stopped, even if it dies before its trap runs.
  // The gate's image has its own file (images-gate.test.ts): four builds do not fit one file's time on 2 cores.
  const script = startProcess('bash', [`${ROOT}scripts/check-images.sh`, 'auth-server', 'resource-api', 'demo-web'], {
    cwd: ROOT,
  })
  t.teardown(() => script.stop())
  const timer = setTimeout(() => void script.stop('SIGKILL'), 170_000)
  const code = await script.exited
  clearTimeout(timer)
  const out = script.output()
  t.equal(code, 0, out)
  for (const image of ['auth-server', 'resource-api', 'demo-web']) {
    t.match(out, new RegExp(`${image}: built from the lockfile, \\S+ in the final stage, /healthz answers`))
  }
  t.match(out, /tollgate-dev: the same build runs tollgate dev, \/_test answers/)
})
