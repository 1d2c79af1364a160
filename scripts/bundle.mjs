// Bundles a service entry point (after tsc) into one ESM file, so Node resolves and reads one file at start instead of
// every module of Fastify, pino, ioredis and ours: the auth server (in-memory store) goes from spawn to ready in about
// three quarters of the time the unbundled dist/server.js takes.

//
// usage (from a package directory): node ../../scripts/bundle.mjs <entry> <outfile> [--external <pkg>]… [--define K=V]…
// Kept external: native addons (argon2), and packages loaded lazily that read their own files (Swagger UI's assets).
import { createRequire } from 'node:module'
import path from 'node:path'

// esbuild is a devDependency of the package being built (a filtered install, as in the Dockerfiles, has no root one).
const { build } = createRequire(path.join(process.cwd(), 'package.json'))('esbuild')

const [entry, outfile, ...rest] = process.argv.slice(2)
if (!entry || !outfile) {
  process.stderr.write('usage: bundle.mjs <entry> <outfile> [--external pkg]… [--define KEY=VALUE]…\n')
  process.exit(2)
}
const external = []
const define = {}
for (let i = 0; i < rest.length; i += 2) {
  if (rest[i] === '--external') external.push(rest[i + 1])
  else if (rest[i] === '--define') {
    const [key, value] = rest[i + 1].split('=')
    define[key] = JSON.stringify(value)
  } else {
    process.stderr.write(`bundle.mjs: unknown option ${rest[i]}\n`)
    process.exit(2)
  }
}

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  define,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies call require() for Node built-ins; give the ESM bundle one.
  banner: {
    js: "import { createRequire as __tollgateRequire } from 'node:module'; const require = __tollgateRequire(import.meta.url);",
  },
})
