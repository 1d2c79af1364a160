// Fastify's own schema compilers (ajv, fast-json-stringify), loaded and run on a route's first request instead of at
// startup: compiling every route's schemas was a third of the auth server's cold start.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

type Compiled = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown }
type RouteCompiler = (route: unknown) => Compiled
type Factory = (externalSchemas: unknown, options: unknown) => RouteCompiler

/**
 * A `schemaController.compilersFactory` with the same compilers Fastify uses by default, each schema compiled once,
 * when first needed. Validation and serialization behave exactly as with the defaults.
 *
 * @example
 * Fastify({ schemaController: { compilersFactory: lazyCompilersFactory() } })
 */
export function lazyCompilersFactory() {
  let validatorSelector: Factory | undefined
  let serializerSelector: Factory | undefined

  const lazy = (load: () => Factory) => (externalSchemas: unknown, options: unknown) => {
    let build: RouteCompiler | undefined
    return (route: unknown) => {
      let compiled: Compiled | undefined
      const real = (): Compiled => {
        build ??= load()(externalSchemas, options)
        compiled ??= build(route)
        return compiled
      }
      const wrapper = ((data: unknown, context?: unknown) =>
        context === undefined ? real()(data) : real()(data, context)) as Compiled
      Object.defineProperties(wrapper, {
        // Fastify passes the parent object to ajv validators (so a root value can be coerced) when this is set.
        schemaEnv: { get: () => real().schemaEnv },
        errors: { get: () => real().errors },
      })
      return wrapper
    }
  }

  return {
    buildValidator: lazy(() => {
      validatorSelector ??= (require('@fastify/ajv-compiler') as () => Factory)()
      return validatorSelector
    }),
    buildSerializer: lazy(() => {
      serializerSelector ??= (require('@fastify/fast-json-stringify-compiler') as () => Factory)()
      return serializerSelector
    }),
  }
}
