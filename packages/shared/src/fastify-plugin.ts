// Fastify plugin: verifies bearer tokens, decorates request.auth, guards routes by scope.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { bearerToken } from './bearer.js'
import { bearerErrorBody, challenges } from './challenge.js'
import { type AccessTokenClaims, type AuthContext, authContext } from './claims.js'
import { InsufficientScopeError, InvalidRequestError, TollgateTokenError, UseDpopNonceError } from './errors.js'
import { validHost } from './lib/host.js'
import { createVerifier, type Verifier, type VerifierOptions } from './verifier.js'

export type TollgatePluginOptions = (
  | { readonly verifier: Verifier; readonly audience?: string }
  | (VerifierOptions & { readonly verifier?: undefined })
) & {
  /** `realm` of the `WWW-Authenticate` challenge. Default: the audience. */
  readonly realm?: string
  /** Called with every refused request's error, e.g. for metrics. */
  readonly onReject?: (err: TollgateTokenError, request: FastifyRequest) => void
  /**
   * The service's public base URL (`https://api.example`), when it runs behind a proxy that rewrites the host or
   * scheme: DPoP proofs name the URL the client used. Default: the request's own protocol and host (with Fastify's
   * `trustProxy`, as forwarded).
   */
  readonly publicUrl?: string
  /**
   * The URL of this resource's RFC 9728 metadata (`protectedResourceMetadataUrl(audience)`), named in every challenge
   * as `resource_metadata`.
   */
  readonly resourceMetadata?: string
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
  const publicUrl = options.publicUrl?.replace(/\/+$/, '')
  if (publicUrl !== undefined) new URL(publicUrl)
  const challengeOptions =
    options.resourceMetadata === undefined ? undefined : { resourceMetadata: options.resourceMetadata }
  if (challengeOptions) new URL(challengeOptions.resourceMetadata)
  const { dpopAlgorithms, dpopNonces } = verifier
  const isDpop = (header: string | undefined) =>
    header !== undefined && header.length > 5 && (header.charCodeAt(0) | 32) === 100 && /^dpop /i.test(header)

  const refuse = (reply: FastifyReply, request: FastifyRequest, err: TollgateTokenError): FastifyReply => {
    onReject?.(err, request)
    const scheme = isDpop(request.headers.authorization) ? 'DPoP' : 'Bearer'
    if (err instanceof UseDpopNonceError) reply.header('dpop-nonce', err.nonce)
    return reply
      .code(err.status)
      .header('www-authenticate', challenges(err, realm, dpopAlgorithms, scheme, challengeOptions))
      .header('cache-control', 'no-store')
      .send(bearerErrorBody(err))
  }

  /**
   * The URL the client addressed, without the query: what a DPoP proof's `htu` names. Built from the Host header (or
   * the forwarded host) unless `publicUrl` is set, so a Host that cannot name a URL is the client's error (400).
   */
  const htuOf = (request: FastifyRequest): string => {
    const q = request.url.indexOf('?')
    const path = q === -1 ? request.url : request.url.slice(0, q)
    if (publicUrl !== undefined) return `${publicUrl}${path}`
    if (!validHost(request.host)) throw new InvalidRequestError('the Host header is not a valid host name')
    return `${request.protocol}://${request.host}${path}`
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
    const admitDpop = (
      request: FastifyRequest,
      reply: FastifyReply,
      auth: AuthContext,
      done: HookHandlerDoneFunction,
    ) => {
      // With nonces on, every DPoP answer carries the one to use next.
      if (dpopNonces) reply.header('dpop-nonce', dpopNonces.current())
      admit(request, reply, auth, done)
    }
    return (request, reply, done) => {
      if (request.auth) return admit(request, reply, request.auth, done)
      const header = request.headers.authorization
      if (isDpop(header)) {
        let url: string
        try {
          url = htuOf(request)
        } catch (err) {
          return fail(request, reply, err, done)
        }
        // The proof is checked on every request: the verified-token cache only ever saves the token's signature.
        verifier.verifyRequest({ authorization: header, dpop: request.headers.dpop, method: request.method, url }).then(
          (claims) => admitDpop(request, reply, contextOf(claims), done),
          (err: unknown) => fail(request, reply, err, done),
        )
        return
      }
      let token: string
      try {
        token = bearerToken(header)
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
