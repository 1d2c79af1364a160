// /console: the operators' web console (SPEC "The console"; packages/console), served from its built files: the page
// for every path below /console/ (a single-page app), content-hashed assets cached for a year and precompressed, all
// under a Content-Security-Policy that allows the console's own scripts and styles and nothing inline.
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { CONSOLE_CLIENT_ID, CONSOLE_PATH } from '../clients/console-client.js'
import type { ServerContext } from '../context.js'
import { NotFound } from '../errors.js'
import { escapeHtml } from '../views/login-page.js'

declare const __TOLLGATE_CONSOLE_DIR__: string | undefined
/** `console/` beside the server's build: dist/console (copied there by the auth server's build), for dist/ and the bundle. */
const DEFAULT_DIR = fileURLToPath(
  new URL(typeof __TOLLGATE_CONSOLE_DIR__ === 'string' ? __TOLLGATE_CONSOLE_DIR__ : '../console/', import.meta.url),
)

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
}
/** Built names carry their content's hash (`app-3F2K….js`): such a file never changes. */
const HASHED = /-[A-Z0-9]{8,}\.[a-z]+$/

interface Asset {
  readonly type: string
  readonly body: Buffer
  readonly br?: Buffer
  readonly gzip?: Buffer
  readonly immutable: boolean
}

interface Site {
  readonly page: string
  readonly assets: ReadonlyMap<string, Asset>
}

/** Reads the built console once: the page template and every asset with its precompressed forms. */
async function loadSite(dir: string, render: (template: string) => string): Promise<Site | undefined> {
  if (!existsSync(path.join(dir, 'index.html'))) return undefined
  const page = render(await readFile(path.join(dir, 'index.html'), 'utf8'))
  const assets = new Map<string, Asset>()
  const folder = path.join(dir, 'assets')
  const names = existsSync(folder) ? await readdir(folder) : []
  for (const name of names) {
    const type = TYPES[path.extname(name)]
    if (type === undefined) continue
    const read = (suffix: string) =>
      names.includes(name + suffix) ? readFile(path.join(folder, name + suffix)) : Promise.resolve(undefined)
    const [body, br, gzip] = await Promise.all([readFile(path.join(folder, name)), read('.br'), read('.gz')])
    assets.set(name, {
      type,
      body,
      immutable: HASHED.test(name),
      ...(br ? { br } : {}),
      ...(gzip ? { gzip } : {}),
    })
  }
  return { page, assets }
}

/** The console's policy: its own files only; API calls to this server; no framing, no inline code. */
export function consoleCsp(issuer: string): string {
  const origin = new URL(issuer).origin
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ${origin}`,
    "manifest-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
}

export const consoleRoutes: FastifyPluginAsync<{ ctx: ServerContext; dir?: string }> = async (app, options) => {
  const { config, log } = options.ctx
  const dir = options.dir ?? DEFAULT_DIR
  const base = `${new URL(config.baseUrl).pathname.replace(/\/$/, '')}${CONSOLE_PATH}`
  const csp = consoleCsp(config.issuer)
  // What the page needs to sign in, as data (a meta element), so no script is inline.
  const settings = JSON.stringify({ issuer: config.issuer, clientId: CONSOLE_CLIENT_ID, base })
  const render = (template: string) =>
    template.replaceAll('%BASE%', escapeHtml(base)).replace('%SETTINGS%', escapeHtml(settings))
  // Read on the first request, not at startup: a server whose console nobody opens pays nothing.
  let site: Promise<Site | undefined> | undefined
  const loaded = () => {
    site ??= loadSite(dir, render).then(
      (found) => {
        if (!found) log.error({ dir }, 'the console is not built: /console answers 404 (pnpm build)')
        return found
      },
      (err: Error) => {
        site = undefined
        throw err
      },
    )
    return site
  }
  const hidden = { schema: { hide: true } }

  const sendPage = async (_request: FastifyRequest, reply: FastifyReply) => {
    const found = await loaded()
    if (!found) throw new NotFound('the console is not built into this server')
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', csp)
      .send(found.page)
  }

  app.get(CONSOLE_PATH, hidden, async (_request, reply) => reply.redirect(`${base}/`, 308))
  app.get(`${CONSOLE_PATH}/`, hidden, sendPage)
  app.get(`${CONSOLE_PATH}/assets/:name`, hidden, async (request, reply) => {
    const found = await loaded()
    const asset = found?.assets.get((request.params as { name: string }).name)
    if (!asset) throw new NotFound('no such file')
    const accepts = String(request.headers['accept-encoding'] ?? '')
    const encoding = asset.br && /\bbr\b/.test(accepts) ? 'br' : asset.gzip && /\bgzip\b/.test(accepts) ? 'gzip' : null
    reply
      .type(asset.type)
      .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=3600')
      .header('content-security-policy', csp)
      .header('vary', 'accept-encoding')
    if (encoding) reply.header('content-encoding', encoding)
    return reply.send(encoding === 'br' ? asset.br : encoding === 'gzip' ? asset.gzip : asset.body)
  })
  // Every other path is a page of the app (clients/…, users/…, the sign-in callback): the app routes it.
  app.get(`${CONSOLE_PATH}/*`, hidden, sendPage)
}
