// POST /oauth/device_authorization (RFC 8628 §3.1): a device (a CLI, a TV) asks to be authorized; it gets a device
// code to poll the token endpoint with, and a user code for a person to enter at the verification page.
import type { FastifyPluginAsync } from 'fastify'
import { authenticateClient } from '../clients/authenticate.js'
import type { ServerContext } from '../context.js'
import { startDeviceAuthorization } from '../device/authorize.js'
import { UnauthorizedClient } from '../errors.js'
import type { FormBody } from '../params.js'
import { DEVICE_CODE } from '../store/types.js'
import { clientSecurity, errorResponses } from './schemas.js'

const str = { type: 'string', maxLength: 4096 } as const

const schema = {
  summary: 'Device authorization (RFC 8628 §3.1)',
  description: 'Client authentication as at the token endpoint (public clients send client_id).',
  tags: ['oauth'],
  security: [...clientSecurity, {}],
  consumes: ['application/x-www-form-urlencoded'],
  body: {
    type: 'object',
    properties: {
      client_id: str,
      client_secret: str,
      client_assertion: str,
      client_assertion_type: str,
      scope: str,
      resource: { type: 'array', items: str, maxItems: 16 },
    },
    maxProperties: 16,
  },
  response: {
    200: {
      type: 'object',
      properties: {
        device_code: { type: 'string' },
        user_code: { type: 'string' },
        verification_uri: { type: 'string' },
        verification_uri_complete: { type: 'string' },
        expires_in: { type: 'integer' },
        interval: { type: 'integer' },
      },
      required: ['device_code', 'user_code', 'verification_uri', 'expires_in', 'interval'],
    },
    ...errorResponses,
  },
} as const

export const deviceAuthorizationRoute: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.post('/oauth/device_authorization', { schema }, async (request, reply) => {
    const body = (request.body ?? {}) as FormBody
    const { client } = await authenticateClient(ctx, request, body)
    if (!client.grantTypes.includes(DEVICE_CODE)) {
      throw new UnauthorizedClient('this client may not use the device authorization grant')
    }
    return reply.header('cache-control', 'no-store').send(await startDeviceAuthorization(ctx, client, body))
  })
}
