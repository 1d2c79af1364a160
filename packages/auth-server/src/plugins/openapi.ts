// OpenAPI document generated from the route schemas, at /docs/json, rendered at /docs (built on first request).
import { lazyDocs } from '@tollgate/shared/service'
import type { FastifyInstance } from 'fastify'
import { oauthError } from '../routes/schemas.js'

export function openapi(app: FastifyInstance, options: { issuer: string; version: string }): void {
  lazyDocs(app, {
    schemas: [oauthError],
    openapi: {
      info: { title: 'Tollgate authorization server', version: options.version },
      servers: [{ url: options.issuer }],
      components: {
        securitySchemes: {
          clientSecretBasic: {
            type: 'http',
            scheme: 'basic',
            description: 'client_secret_basic (RFC 6749 §2.3.1): client_id and client_secret, each form-urlencoded',
          },
          clientSecretPost: {
            type: 'apiKey',
            in: 'query',
            name: 'client_secret',
            description:
              'client_secret_post (RFC 6749 §2.3.1): client_id and client_secret as fields of the form body ' +
              '(OpenAPI cannot name a body field as a credential; never send them in the query string)',
          },
          privateKeyJwt: {
            type: 'apiKey',
            in: 'query',
            name: 'client_assertion',
            description:
              'private_key_jwt (RFC 7523 §2.2, OIDC Core §9): client_assertion_type ' +
              'urn:ietf:params:oauth:client-assertion-type:jwt-bearer and client_assertion, a JWT signed by one of the ' +
              "client's registered keys (iss = sub = client_id, aud the issuer, exp within 5 min, a jti used once); or " +
              "a platform token (a Kubernetes service-account token, a CI job's OIDC token; a SPIFFE JWT-SVID with " +
              'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe) of a trusted issuer, for a client that lists that ' +
              'identity. Fields of the form body (OpenAPI cannot name a body field as a credential)',
          },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'an access token (RFC 6750)' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when it is set' },
          dpop: {
            type: 'http',
            scheme: 'DPoP',
            bearerFormat: 'JWT',
            description: 'a DPoP-bound access token with its DPoP proof header (RFC 9449)',
          },
          oauth2: {
            type: 'oauth2',
            description: 'The grants of this server; tokens are RFC 9068 JWTs',
            flows: {
              clientCredentials: { tokenUrl: `${options.issuer}/oauth/token`, scopes: {} },
              password: {
                tokenUrl: `${options.issuer}/oauth/token`,
                refreshUrl: `${options.issuer}/oauth/token`,
                scopes: {},
              },
              authorizationCode: {
                authorizationUrl: `${options.issuer}/oauth/authorize`,
                tokenUrl: `${options.issuer}/oauth/token`,
                refreshUrl: `${options.issuer}/oauth/token`,
                scopes: { openid: 'OpenID Connect', profile: 'name and picture', email: 'email address' },
              },
            },
          },
        },
      },
    },
    load: async () => ({
      fastify: (await import('fastify')).default as never,
      swagger: (await import('@fastify/swagger')).default,
      swaggerUi: (await import('@fastify/swagger-ui')).default,
    }),
  })
}
