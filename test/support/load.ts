// Bounded load loops for fault tests: N workers, each repeating a step until a deadline.

export interface LoadResult {
  readonly statuses: Map<string, number>
  readonly samples: { at: number; status: string; worker: number }[]
  readonly total: number
}

/**
 * Runs `step` in `workers` parallel loops for `durationMs` (and at most `maxSteps` in all, and only while `until`
 * is false).
 * A step returns a status label ("200", "503", "ECONNREFUSED", …).
 */
export async function runLoad(
  workers: number,
  durationMs: number,
  step: (worker: number) => Promise<string>,
  maxSteps = 100_000,
  until: () => boolean = () => false,
): Promise<LoadResult> {
  const statuses = new Map<string, number>()
  const samples: { at: number; status: string; worker: number }[] = []
  const deadline = Date.now() + durationMs
  let total = 0
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (Date.now() < deadline && total < maxSteps && !until()) {
        total++
        let status: string
        try {
          status = await step(worker)
        } catch (err) {
          status = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        samples.push({ at: Date.now(), status, worker })
      }
    }),
  )
  return { statuses, samples, total }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs the `tollgate` CLI with an environment; resolves with its output, rejects on a non-zero exit. */
export async function tollgate(
  args: string[],
  env: Record<string, string | undefined>,
  input?: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const { spawn } = await import('node:child_process')
  const { ROOT } = await import('./services.js')
  const { reapOnExit } = await import('./processes.js')
  return new Promise((resolve) => {
    const cleanEnv: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) cleanEnv[k] = v
    const child = reapOnExit(
      spawn(process.execPath, [`${ROOT}packages/auth-server/bin/tollgate.js`, ...args], {
        env: cleanEnv,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.stdin.end(input ?? '')
    child.on('exit', (code) => resolve({ stdout, stderr, code: code ?? 1 }))
  })
}
