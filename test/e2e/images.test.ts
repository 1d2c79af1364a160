// The Dockerfiles' build steps, run without Docker (scripts/check-images.sh): dependencies from the lockfile only,
// no devDependency in the final stage, and each final command answering its health check (and `tollgate dev`).
import { spawn } from 'node:child_process'
import t from 'tap'
import { ROOT } from '../support/services.js'

t.test('every image builds from the lockfile and its command starts', async (t) => {
  const child = spawn('bash', [`${ROOT}scripts/check-images.sh`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => {
    out += d
  })
  child.stderr.on('data', (d) => {
    out += d
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 170_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearTimeout(timer)
  t.equal(code, 0, out)
  for (const image of ['auth-server', 'resource-api', 'demo-web', 'gate']) {
    t.match(out, new RegExp(`${image}: built from the lockfile, \\S+ in the final stage, /healthz answers`))
  }
  t.match(out, /tollgate-dev: the same build runs tollgate dev, \/_test answers/)
})
