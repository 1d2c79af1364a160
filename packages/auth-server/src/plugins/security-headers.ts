// helmet's response headers on every answer of the auth server (token, JWKS, discovery, errors, 404s, pages).
import helmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * helmet's defaults that fit an API: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
 * `X-Frame-Options`, the cross-origin isolation headers and the rest. Not a global Content-Security-Policy: the
 * sign-in pages set their own (its `form-action` names the client), JSON needs none. HSTS only when the issuer is
 * HTTPS: on plain-HTTP localhost it would pin a browser to HTTPS for the host.
 */
async function securityHeaders(app: FastifyInstance, options: { https: boolean }): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: false,
    strictTransportSecurity: options.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  })
}

export default fp(securityHeaders, { fastify: '5.x', name: 'tollgate-security-headers' })
