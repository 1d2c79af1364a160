// Fastify plugin: verifies bearer tokens, decorates request.auth, guards routes by scope.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { bearerToken } from './bearer.js'
import { bearerChallenge, bearerErrorBody } from './challenge.js'
import { type AccessTokenClaims, type AuthContext, authContext } from './claims.js'
import { InsufficientScopeError, TollgateTokenError } from './errors.js'
import { createVerifier, type Verifier, type VerifierOptions } from './verifier.js'

export type TollgatePluginOptions = (
  | { readonly verifier: Verifier; readonly audience?: string }
  | (VerifierOptions & { readonly verifier?: undefined })
) & {
  /** `realm` of the `WWW-Authenticate` challenge. Default: the audience. */
  readonly realm?: string
  /** Called with every refused request's error, e.g. for metrics. */
  readonly onReject?: (err: TollgateTokenError, request: FastifyRequest) => void
}

/**
 * A hook that authenticates the request; use it as `onRequest` (checked before
 * the body is read) or `preHandler`.
 */
export type AuthHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller, set by `authenticate` / `requireScope`; `null` before. */
    auth: AuthContext | null
  }
  interface FastifyInstance {
    tollgate: { readonly verifier: Verifier; readonly realm: string }
    /** Hook: any valid access token. */
    authenticate: AuthHook
    /** Hook: a valid access token carrying every given scope. */
    requireScope(...scopes: string[]): AuthHook
  }
}

const plugin: FastifyPluginAsync<TollgatePluginOptions> = async (fastify, options) => {
  const verifier = options.verifier ?? createVerifier(options as VerifierOptions)
  const audience = options.audience
  const realm = options.realm ?? (typeof audience === 'string' ? audience : (audience?.[0] ?? 'tollgate'))
  const { onReject } = options

  const refuse = (reply: FastifyReply, request: FastifyRequest, err: TollgateTokenError): FastifyReply => {
    onReject?.(err, request)
    return reply
      .code(err.status)
      .header('www-authenticate', bearerChallenge(err, realm))
      .header('cache-control', 'no-store')
      .send(bearerErrorBody(err))
  }

  // Verified claims are shared (frozen) objects when the verifier answers from its cache; so are their contexts.
  const contexts = new WeakMap<AccessTokenClaims, AuthContext>()
  const contextOf = (claims: AccessTokenClaims): AuthContext => {
    let auth = contexts.get(claims)
    if (!auth) {
      auth = authContext(claims)
      contexts.set(claims, auth)
    }
    return auth
  }

  /**
   * Authenticates the request: synchronously from the verifier's cache when it
   * can (the common case: no promise, no await), else by a full verification.
   * A callback-style hook, so the fast path allocates nothing.
   */
  const guard = (scopes: readonly string[]): AuthHook => {
    /** Continues (calls `done`) or answers 403; never both. */
    const admit = (request: FastifyRequest, reply: FastifyReply, auth: AuthContext, done: HookHandlerDoneFunction) => {
      request.auth = auth
      if (scopes.length > 0 && !auth.hasScope(...scopes))
        refuse(reply, request, new InsufficientScopeError([...scopes]))
      else done()
    }
    const fail = (request: FastifyRequest, reply: FastifyReply, err: unknown, done: HookHandlerDoneFunction) => {
      if (err instanceof TollgateTokenError) refuse(reply, request, err)
      else done(err as Error)
    }
    return (request, reply, done) => {
      if (request.auth) return admit(request, reply, request.auth, done)
      let token: string
      try {
        token = bearerToken(request.headers.authorization)
      } catch (err) {
        return fail(request, reply, err, done)
      }
      const claims = verifier.cached(token)
      if (claims) return admit(request, reply, contextOf(claims), done)
      verifier.verify(token).then(
        (verified) => admit(request, reply, contextOf(verified), done),
        (err: unknown) => fail(request, reply, err, done),
      )
    }
  }

  const authenticate = guard([])
  const requireScope = (...scopes: string[]): AuthHook => {
    if (scopes.length === 0 || scopes.some((s) => typeof s !== 'string' || s === '' || s.includes(' '))) {
      throw new TypeError('requireScope takes one or more scope tokens')
    }
    return guard(scopes)
  }

  fastify.decorateRequest('auth', null)
  fastify.decorate('tollgate', { verifier, realm })
  fastify.decorate('authenticate', authenticate)
  fastify.decorate('requireScope', requireScope)
}

/**
 * Protect routes with Tollgate access tokens.
 *
 * @example
 * await app.register(tollgate, { issuer: 'http://localhost:3000', audience: 'http://localhost:3001' })
 * app.get('/v1/notes', { onRequest: app.requireScope('notes:read') }, async (req) => notesOf(req.auth!.subject))
 */
export const tollgate = fp(plugin, { fastify: '5.x', name: '@tollgate/shared' })
export default tollgate
