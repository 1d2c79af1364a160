// Processes a test file started die with it, even when the file crashes before its teardowns run
// (a setup step that throws at the top level would otherwise leave servers running on the machine).
import type { ChildProcess } from 'node:child_process'

const children = new Set<ChildProcess>()
let installed = false

/** Kills `child` (SIGKILL) when this test process exits, unless it has exited already. */
export function reapOnExit(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  if (!installed) {
    installed = true
    process.once('exit', () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    })
  }
  return child
}
