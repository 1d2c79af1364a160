// OpenAPI docs (/docs/json, /docs) built on the first request for them, not at startup.
//
// @fastify/swagger and @fastify/swagger-ui load a YAML library, static-file serving and compile every route schema
// again; at startup that was a fifth of a service's cold start, for pages few requests ever ask for. Here the routes
// are recorded as they are declared and replayed into a separate, docs-only Fastify instance on first use.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'

/** The modules to build the docs with, loaded by the caller (so they resolve from its own dependencies). */
export interface DocsModules {
  readonly fastify: (options?: object) => FastifyInstance
  readonly swagger: unknown
  readonly swaggerUi: unknown
}

export interface LazyDocsOptions {
  readonly load: () => Promise<DocsModules>
  /** The `openapi` document options of @fastify/swagger (info, servers, components, …). */
  readonly openapi: Record<string, unknown>
  /** Shared schemas routes refer to with `$ref` (as given to `app.addSchema`). */
  readonly schemas?: readonly Record<string, unknown>[]
  readonly prefix?: string
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date'])

/**
 * Serves the OpenAPI document at `<prefix>/json` and Swagger UI at `<prefix>`, generated from every route declared
 * on `app` after this call.
 *
 * @example
 * lazyDocs(app, {
 *   openapi: { info: { title: 'Orders', version: '1.0.0' } },
 *   load: async () => ({ fastify: (await import('fastify')).default, swagger: (await import('@fastify/swagger')).default,
 *     swaggerUi: (await import('@fastify/swagger-ui')).default }),
 * })
 */
export function lazyDocs(app: FastifyInstance, options: LazyDocsOptions): void {
  const prefix = options.prefix ?? '/docs'
  const routes: Pick<RouteOptions, 'method' | 'url' | 'schema'>[] = []
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat().filter((m) => m !== 'HEAD' && m !== 'OPTIONS')
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide || route.url.startsWith(prefix)
    if (methods.length > 0 && !hidden) routes.push({ method: methods, url: route.url, schema: route.schema })
  })

  let built: Promise<FastifyInstance> | undefined
  const build = async () => {
    const modules = await options.load()
    const docs = modules.fastify({ logger: false })
    for (const schema of options.schemas ?? []) docs.addSchema(schema)
    await docs.register(modules.swagger as never, { openapi: options.openapi } as never)
    await docs.register(modules.swaggerUi as never, { routePrefix: prefix, staticCSP: true } as never)
    for (const route of routes) {
      docs.route({ ...route, handler: async () => null } as RouteOptions)
    }
    await docs.ready()
    return docs
  }

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    built ??= build().catch((err) => {
      built = undefined
      throw err
    })
    const docs = await built
    const res = await docs.inject({
      method: 'GET',
      url: request.url,
      headers: { accept: request.headers.accept ?? '*/*' },
    })
    for (const [name, value] of Object.entries(res.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) reply.header(name, value)
    }
    return reply.code(res.statusCode).send(res.rawPayload)
  }
  app.get(prefix, { schema: { hide: true } as object }, serve)
  app.get(`${prefix}/*`, { schema: { hide: true } as object }, serve)
}
