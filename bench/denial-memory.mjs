#!/usr/bin/env node --expose-gc
// Heap bytes per denial a verifier holds: N session and N jti denials in @tollgate/shared's Denials set.
// Run with --expose-gc; prints JSON.
import { randomBytes } from 'node:crypto'
import { Denials } from '../packages/shared/dist/revocation/denials.js'

const n = Number(process.argv[2] ?? 100_000)
const until = Date.now() + 3_600_000
globalThis.gc()
const before = process.memoryUsage().heapUsed
const denials = new Denials()
// Identifiers as they arrive in events (a sid is 16 characters, a jti 22): held only by the set, so counted.
for (let i = 0; i < n; i++) denials.session(randomBytes(12).toString('base64url'), until + i)
for (let i = 0; i < n; i++) denials.token(randomBytes(16).toString('base64url'), until + i)
globalThis.gc()
const after = process.memoryUsage().heapUsed
process.stdout.write(
  `${JSON.stringify({ denials: denials.size, bytesPerDenial: Math.round((after - before) / denials.size) })}\n`,
)
