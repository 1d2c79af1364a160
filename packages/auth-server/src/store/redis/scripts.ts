// The Lua scripts in lua/: what each takes (named keys and arguments, in ARGV order), registered once per connection,
// called only through `run`, which turns named inputs into KEYS and ARGV.
import { readdirSync, readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'

/** Set by scripts/bundle.mjs: the bundled server lives in dist/, two directories above this module. */
declare const __TOLLGATE_LUA_DIR__: string | undefined
const LUA_DIR = new URL(typeof __TOLLGATE_LUA_DIR__ === 'string' ? __TOLLGATE_LUA_DIR__ : './lua/', import.meta.url)

/** One script: `lua/<file>-<keys.length>.lua`, its KEYS and ARGV in the order its header lists them. */
export interface ScriptSpec<K extends string = string, A extends string = string> {
  readonly file: string
  readonly keys: readonly K[]
  readonly args: readonly A[]
}

const spec = <const K extends string, const A extends string>(file: string, keys: K[], args: A[]) =>
  ({ file, keys, args }) as ScriptSpec<K, A>

/** Every script, by the command name it is registered under. */
export const SCRIPTS = {
  countRequest: spec('count-request', ['counter'], ['windowMs']),
  createSession: spec(
    'create-session',
    ['family', 'user'],
    [
      'fid',
      'tokenHash',
      'clientId',
      'scope',
      'audience',
      'authTime',
      'userAgent',
      'now',
      'idleTtlMs',
      'absoluteTtlMs',
      'deadline',
      'jkt',
    ],
  ),
  decideDevice: spec('decide-device', ['authorization'], ['now', 'approved', 'sub', 'authTime']),
  deleteIfEqual: spec('delete-if-equal', ['key'], ['expected']),
  inspectRefresh: spec('inspect-refresh', ['family'], ['tokenHash']),
  listSessions: spec('list-sessions', ['user', 'familyPrefix'], ['now']),
  pollDevice: spec('poll-device', ['authorization'], ['clientId', 'now', 'deadline']),
  recordRevocation: spec('record-revocation', ['log', 'denial'], ['at', 'until', 'retentionMs', 'entry']),
  recordFailure: spec('record-failure', ['counter'], ['now', 'windowMs', 'maxFailures', 'lockoutMs']),
  redeemCode: spec('redeem-code', ['code'], ['clientId', 'deadline', 'jkt']),
  revokeSession: spec('revoke-session', ['family', 'user'], ['fid']),
  takePushedRequest: spec('take-pushed-request', ['request'], ['clientId', 'deadline']),
  revokeUserSessions: spec('revoke-user-sessions', ['user', 'familyPrefix'], []),
  rotateRefresh: spec(
    'rotate-refresh',
    ['family', 'user'],
    [
      'fid',
      'presentedHash',
      'successorHash',
      'sealedSuccessor',
      'clientId',
      'now',
      'idleTtlMs',
      'graceMs',
      'scope',
      'audience',
      'deadline',
      'jkt',
    ],
  ),
} as const

export type ScriptName = keyof typeof SCRIPTS
type KeysOf<N extends ScriptName> = (typeof SCRIPTS)[N] extends ScriptSpec<infer K, string> ? K : never
type ArgsOf<N extends ScriptName> = (typeof SCRIPTS)[N] extends ScriptSpec<string, infer A> ? A : never

/** The named inputs of a script: its keys and its arguments. */
export type ScriptInput<N extends ScriptName> = {
  readonly keys: { readonly [K in KeysOf<N>]: string }
  readonly args: { readonly [A in ArgsOf<N>]: string | number }
}

/** What ioredis (or a pipeline) exposes once the scripts are defined: `name(...keys, ...args)`. */
export type ScriptTarget = Record<ScriptName, (...keysAndArgs: (string | number)[]) => unknown>

/** The file name a script is read from. */
export const fileOf = (name: ScriptName) => `${SCRIPTS[name].file}-${SCRIPTS[name].keys.length}.lua`

let sources: Map<ScriptName, string> | undefined

/** Reads every script once per process; a spec without its file (or the reverse) is a startup error. */
export function loadSources(dir: URL = LUA_DIR): Map<ScriptName, string> {
  if (sources && dir === LUA_DIR) return sources
  const files = new Set(readdirSync(dir).filter((f) => f.endsWith('.lua')))
  const loaded = new Map<ScriptName, string>()
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    const file = fileOf(name)
    if (!files.delete(file)) throw new Error(`the Lua script ${file} for ${name} is missing`)
    loaded.set(name, readFileSync(new URL(file, dir), 'utf8'))
  }
  if (files.size > 0) throw new Error(`Lua scripts without a spec in scripts.ts: ${[...files].join(', ')}`)
  if (dir === LUA_DIR) sources = loaded
  return loaded
}

export function defineScripts(redis: Redis | Cluster): void {
  for (const [name, lua] of loadSources()) {
    redis.defineCommand(name, { numberOfKeys: SCRIPTS[name].keys.length, lua })
  }
}

/**
 * Calls a script with named inputs, in the order its spec (and its header) lists them.
 *
 * @example
 * await call(redis, 'revokeSession', { keys: { family, user }, args: { fid } })
 */
export function call<N extends ScriptName, R>(target: unknown, name: N, input: ScriptInput<N>): Promise<R> {
  const { keys, args } = SCRIPTS[name] as ScriptSpec
  const keyValues = keys.map((k) => (input.keys as Record<string, string>)[k] as string)
  const argValues = args.map((a) => (input.args as Record<string, string | number>)[a] as string | number)
  return (target as ScriptTarget)[name](...keyValues, ...argValues) as Promise<R>
}
