// CLI output: aligned tables for people, JSON for scripts; errors as one line on stderr.
import { TollgateError } from '@tollgate/shared'

export interface Output {
  readonly json: boolean
  /** Prints rows as a table (or a JSON array). */
  table(rows: Record<string, unknown>[], columns: string[]): void
  /** Prints one result object (or a sentence for people). */
  result(value: Record<string, unknown>, sentence: string): void
}

export function output(json: boolean, write: (text: string) => void = (t) => process.stdout.write(t)): Output {
  return {
    json,
    table(rows, columns) {
      if (json) {
        write(`${JSON.stringify(rows, null, 2)}\n`)
        return
      }
      if (rows.length === 0) {
        write('(none)\n')
        return
      }
      const cell = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : String(v))
      const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
      const line = (values: string[]) =>
        `${values
          .map((v, i) => v.padEnd(widths[i] as number))
          .join('  ')
          .trimEnd()}\n`
      write(line(columns.map((c) => c.toUpperCase())))
      for (const row of rows) write(line(columns.map((c) => cell(row[c]))))
    },
    result(value, sentence) {
      write(json ? `${JSON.stringify(value, null, 2)}\n` : `${sentence}\n`)
    },
  }
}

/** A failure the user can act on: printed as one line, exit code 1. */
export class CliError extends TollgateError {
  constructor(message: string) {
    super('ERR_CLI', message)
  }
}
