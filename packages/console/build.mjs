// Builds the console into dist/: one minified ES module and one stylesheet, each named by its content's hash (so the
// auth server may cache them for a year) with brotli and gzip copies beside them, and the page that loads them.
//   node build.mjs            (from packages/console; `pnpm build` runs it)
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const root = path.dirname(fileURLToPath(import.meta.url))
const out = path.join(root, 'dist')
const assets = path.join(out, 'assets')
await rm(out, { recursive: true, force: true })
await mkdir(assets, { recursive: true })

const result = await build({
  entryPoints: { app: path.join(root, 'src/main.ts'), style: path.join(root, 'src/style.css') },
  outdir: assets,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome111', 'firefox115', 'safari16.4'],
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
})

const built = {}
for (const file of Object.keys(result.metafile.outputs)) {
  const name = path.basename(file)
  built[name.replace(/-[A-Z0-9]+\./, '.')] = name
  const body = await readFile(path.join(root, file))
  await writeFile(
    `${path.join(root, file)}.br`,
    brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  )
  await writeFile(`${path.join(root, file)}.gz`, gzipSync(body, { level: 9 }))
}
await writeFile(path.join(assets, 'favicon.svg'), await readFile(path.join(root, 'src/favicon.svg')))

const page = (await readFile(path.join(root, 'src/index.html'), 'utf8'))
  .replace('%APP%', built['app.js'])
  .replace('%STYLE%', built['style.css'])
await writeFile(path.join(out, 'index.html'), page)
const size = (name) => Math.round((brotliCompressSync(name).length / 1024) * 10) / 10
process.stdout.write(
  `console: ${built['app.js']} and ${built['style.css']} built (${size(await readFile(path.join(assets, built['app.js'])))} KiB of script, compressed)\n`,
)
