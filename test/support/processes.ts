// Every process a test starts: in its own process group (so stopping it stops whatever it started too), its output
// kept, and killed with the test process however that ends — teardown, crash, uncaught error or tap's timeout signal.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'

const live = new Set<ChildProcess>()
let installed = false

/** Sends `signal` to the child's whole process group (it was started detached), or to the child alone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {}
  }
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null

/** Kills every live group now (SIGKILL); what the test process does on its way out. */
function killAll(): void {
  for (const child of live) signalGroup(child, 'SIGKILL')
  live.clear()
}

function install(): void {
  if (installed) return
  installed = true
  process.once('exit', killAll)
  // tap ends a test file that outlives its timeout with a signal: Node's default would skip the 'exit' handlers.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll()
      process.kill(process.pid, signal)
    })
  }
}

/**
 * Registers a child to be killed (its whole group) when this test process exits, unless it has exited already.
 * Children started by {@link startProcess} are registered already.
 */
export function reapOnExit<C extends ChildProcess>(child: C): C {
  install()
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

export interface TestProcess {
  readonly process: ChildProcess
  readonly pid: number
  /** Everything it wrote to stdout and stderr so far (the last 256 KiB). */
  output(): string
  /** Resolves with the exit code (or signal name) once it has exited. */
  readonly exited: Promise<number | string>
  /**
   * Stops the whole process group: `signal` (default SIGTERM), then SIGKILL if it is still alive after `graceMs`.
   * Resolves once the child has exited.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>
}

const MAX_OUTPUT = 256 * 1024

/**
 * Starts a command in its own process group with its output captured.
 *
 * @example
 * const nginx = startProcess('nginx', ['-p', dir, '-c', conf, '-g', 'daemon off;'])
 * t.teardown(() => nginx.stop())
 */
export function startProcess(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'detached' | 'stdio'> & { readonly stdin?: 'pipe' | 'ignore' } = {},
): TestProcess {
  const { stdin = 'ignore', ...spawnOptions } = options
  const child = reapOnExit(spawn(command, args, { ...spawnOptions, detached: true, stdio: [stdin, 'pipe', 'pipe'] }))
  let output = ''
  const keep = (chunk: Buffer) => {
    output += chunk
    if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exitedPromise = new Promise<number | string>((resolve) => {
    if (exited(child)) resolve(child.exitCode ?? child.signalCode ?? 'unknown')
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
    child.once('error', (err) => resolve(`spawn error: ${err.message}`))
  })
  return {
    process: child,
    pid: child.pid ?? -1,
    output: () => output,
    exited: exitedPromise,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (!exited(child)) {
        signalGroup(child, signal)
        const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs)
        await exitedPromise
        clearTimeout(timer)
      }
      // Whatever it started and left behind in its group goes too.
      signalGroup(child, 'SIGKILL')
    },
  }
}

/** The minimal view of a tap test these helpers need. */
interface TestLike {
  teardown(fn: () => unknown): void
  passing(): boolean
  readonly name?: string
}

/**
 * Stops `processes` when the test ends; when the test failed, prints what each of them wrote, so the cause is on the
 * screen and not thrown away.
 *
 * @example
 * const auth = await startAuthServer()
 * stopWith(t, { auth })
 */
export function stopWith(t: TestLike, processes: Record<string, { output(): string; stop(): Promise<void> }>): void {
  t.teardown(async () => {
    if (!t.passing()) {
      for (const [name, p] of Object.entries(processes)) {
        const text = p.output().trim()
        if (text)
          process.stderr.write(`\n----- output of ${name} -----\n${text.slice(-8_000)}\n----- end of ${name} -----\n`)
      }
    }
    await Promise.all(Object.values(processes).map((p) => p.stop()))
  })
}
