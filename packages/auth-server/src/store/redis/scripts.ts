// Registers every Lua script in lua/ with ioredis defineCommand, once per connection.
import { readdirSync, readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'

/** Set by scripts/bundle.mjs: the bundled server lives in dist/, two directories above this module. */
declare const __TOLLGATE_LUA_DIR__: string | undefined
const LUA_DIR = new URL(typeof __TOLLGATE_LUA_DIR__ === 'string' ? __TOLLGATE_LUA_DIR__ : './lua/', import.meta.url)

const NAME = /^([a-z0-9-]+)-(\d+)\.lua$/

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())

let sources: { command: string; numberOfKeys: number; lua: string }[] | undefined

/** Scripts are read from disk once per process; `name-NUMKEYS.lua` becomes command `name` (camelCased). */
function loadSources() {
  if (sources) return sources
  sources = readdirSync(LUA_DIR)
    .map((file) => ({ file, match: NAME.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ file, match }) => ({
      command: camel(match[1] as string),
      numberOfKeys: Number(match[2]),
      lua: readFileSync(new URL(file, LUA_DIR), 'utf8'),
    }))
  const names = sources.map((s) => s.command)
  const twice = names.find((name, i) => names.indexOf(name) !== i)
  if (twice) throw new Error(`two Lua scripts define the command ${twice}`)
  return sources
}

export function defineScripts(redis: Redis | Cluster): void {
  for (const { command, numberOfKeys, lua } of loadSources()) {
    redis.defineCommand(command, { numberOfKeys, lua })
  }
}

/** The commands defineScripts adds, as ioredis exposes them. */
export interface ScriptCommands {
  deleteIfEqual(key: string, expected: string): Promise<number>
  createSession(family: string, user: string, ...args: (string | number)[]): Promise<number | 'late'>
  rotateRefresh(family: string, user: string, ...args: (string | number)[]): Promise<string[]>
  revokeSession(family: string, user: string, fid: string): Promise<number>
  revokeUserSessions(user: string, familyPrefix: string): Promise<number>
  listSessions(user: string, familyPrefix: string, now: number): Promise<string[]>
  inspectRefresh(family: string, tokenHash: string): Promise<string[]>
  redeemCode(code: string, deadline: number): Promise<string[]>
  countRequest(key: string, windowMs: number): Promise<[number, number]>
  recordFailure(key: string, now: number, windowMs: number, maxFailures: number, lockoutMs: number): Promise<number[]>
}
