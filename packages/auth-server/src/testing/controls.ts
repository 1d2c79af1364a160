// The test issuer's controls over HTTP (`tollgate dev`): what `createTestIssuer()` offers a Node test, for a test
// suite in any language. Registered only in that mode, and answering loopback callers only unless told otherwise.
import type { SigningAlgorithm } from '@tollgate/shared'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { TestIssuer } from '../testing.js'

export interface TestControlsOptions {
  /** The issuer the controls act on (set once it listens). */
  readonly issuer: () => TestIssuer
  /** Answer callers that are not on this machine (a container's port published to the host). Default false. */
  readonly allowRemote?: boolean
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/

const strings = { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 64 } as const
const tokenBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sub: { type: 'string', minLength: 1, maxLength: 256 },
    scope: { anyOf: [{ type: 'string', maxLength: 4096 }, strings] },
    audience: { anyOf: [{ type: 'string', maxLength: 1024 }, strings] },
    client_id: { type: 'string', minLength: 1, maxLength: 128 },
    roles: strings,
    sid: { type: 'string', minLength: 1, maxLength: 128 },
    auth_time: { type: 'integer' },
    expires_in: { type: 'integer', minimum: -86_400, maximum: 31_536_000 },
  },
} as const
const clockBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    advance: { type: 'number', minimum: 0, maximum: 315_360_000, description: 'seconds to move forward' },
    set: { type: 'string', format: 'date-time', description: 'a time to stop at (ISO 8601)' },
    real: { type: 'boolean', description: 'follow real time again' },
  },
} as const
const schema = (summary: string, body?: object) => ({ summary, tags: ['test controls'], ...(body ? { body } : {}) })

export const testControls: FastifyPluginAsync<TestControlsOptions> = async (app, options) => {
  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!options.allowRemote && !LOOPBACK.test(request.socket.remoteAddress ?? '')) {
      return reply.code(403).send({ error: 'forbidden', error_description: 'the test controls answer loopback only' })
    }
  }
  const clock = () => ({ now: new Date(options.issuer().clock.now()).toISOString() })

  app.register(async (controls) => {
    controls.addHook('onRequest', guard)

    controls.get('/_test', { schema: schema('What this test issuer registered, and its controls') }, async () => {
      const issuer = options.issuer()
      return {
        issuer: issuer.url,
        token_endpoint: issuer.tokenEndpoint,
        jwks_uri: issuer.jwksUri,
        default_client: {
          client_id: issuer.client.clientId,
          client_secret: issuer.client.clientSecret,
          audience: issuer.client.audience,
        },
        // A test key: handing out its private half is the point (loopback callers only).
        key_client: {
          client_id: issuer.keyClient.clientId,
          alg: issuer.keyClient.alg,
          kid: issuer.keyClient.kid,
          private_jwk: { ...issuer.keyClient.privateKey.export({ format: 'jwk' }), kid: issuer.keyClient.kid },
          audience: issuer.keyClient.audience,
        },
        ...(issuer.platform && issuer.workload
          ? {
              platform: { issuer: issuer.platform.issuer, jwks_uri: issuer.platform.jwksUri },
              workload_client: { client_id: issuer.workload.clientId, subject: issuer.workload.subject },
            }
          : {}),
        controls: [
          'POST /_test/tokens',
          'GET|POST /_test/clock',
          'POST /_test/keys/rotate',
          'POST /_test/sessions/end',
          'POST /_test/reset',
          ...(issuer.platform ? ['POST /_test/platform/tokens'] : []),
        ],
        ...clock(),
      }
    })

    controls.post(
      '/_test/tokens',
      { schema: schema('Mint an access token with these claims, as the token endpoint would sign it', tokenBody) },
      async (request) => {
        const body = (request.body ?? {}) as Record<string, unknown>
        const issuer = options.issuer()
        const token = await issuer.mintAccessToken({
          ...(body.sub === undefined ? {} : { sub: body.sub as string }),
          ...(body.scope === undefined ? {} : { scope: body.scope as string | string[] }),
          ...(body.audience === undefined ? {} : { audience: body.audience as string | string[] }),
          ...(body.client_id === undefined ? {} : { clientId: body.client_id as string }),
          ...(body.roles === undefined ? {} : { roles: body.roles as string[] }),
          ...(body.sid === undefined ? {} : { sid: body.sid as string }),
          ...(body.auth_time === undefined ? {} : { authTime: body.auth_time as number }),
          ...(body.expires_in === undefined ? {} : { expiresIn: body.expires_in as number }),
        })
        const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
          exp: number
        }
        return {
          access_token: token,
          token_type: 'Bearer',
          expires_in: claims.exp - Math.floor(issuer.clock.now() / 1000),
        }
      },
    )

    controls.get('/_test/clock', { schema: schema("The issuer's time") }, async () => clock())
    controls.post('/_test/clock', { schema: schema("Move the issuer's time", clockBody) }, async (request) => {
      const body = (request.body ?? {}) as { advance?: number; set?: string; real?: boolean }
      const { clock: c } = options.issuer()
      if (body.real) c.reset()
      if (body.set !== undefined) c.set(new Date(body.set))
      if (body.advance !== undefined) c.advance(body.advance)
      return clock()
    })

    controls.post(
      '/_test/keys/rotate',
      {
        schema: schema('A new signing key of `alg` (default: of every algorithm), published and signing at once', {
          type: 'object',
          additionalProperties: false,
          properties: { alg: { type: 'string', enum: ['RS256', 'ES256', 'EdDSA'] } },
        }),
      },
      async (request, reply) => {
        const { alg } = (request.body ?? {}) as { alg?: SigningAlgorithm }
        try {
          return { kid: await options.issuer().rotateKeys(alg) }
        } catch (err) {
          return reply.code(400).send({ error: 'invalid_request', error_description: (err as Error).message })
        }
      },
    )

    controls.post(
      '/_test/platform/tokens',
      {
        schema: schema("A token of the fake platform (a Kubernetes service-account token's shape)", {
          type: 'object',
          additionalProperties: false,
          properties: {
            subject: { type: 'string', minLength: 1, maxLength: 512 },
            audience: { anyOf: [{ type: 'string', maxLength: 1024 }, strings] },
            expires_in: { type: 'integer', minimum: -86_400, maximum: 31_536_000 },
          },
        }),
      },
      async (request, reply) => {
        const issuer = options.issuer()
        const { platform, workload } = issuer
        if (!platform || !workload) {
          return reply.code(404).send({ error: 'not_found', error_description: 'this issuer has no platform' })
        }
        const body = (request.body ?? {}) as { subject?: string; audience?: string | string[]; expires_in?: number }
        return {
          token: platform.token({
            subject: body.subject ?? workload.subject,
            audience: body.audience ?? issuer.url,
            ...(body.expires_in === undefined ? {} : { expiresIn: body.expires_in }),
          }),
          issuer: platform.issuer,
        }
      },
    )

    controls.post(
      '/_test/sessions/end',
      {
        schema: schema('End every session of a user (as an administrator would: verifiers hear of it)', {
          type: 'object',
          additionalProperties: false,
          required: ['username'],
          properties: { username: { type: 'string', minLength: 1, maxLength: 256 } },
        }),
      },
      async (request, reply) => {
        const { username } = request.body as { username: string }
        try {
          return { ended: await options.issuer().endSessions(username) }
        } catch {
          return reply.code(404).send({ error: 'not_found', error_description: `no user "${username}"` })
        }
      },
    )

    controls.post(
      '/_test/reset',
      { schema: schema('Forget sessions, codes and counters; register the clients and users again; real time') },
      async () => {
        await options.issuer().reset()
        return { reset: true, ...clock() }
      },
    )
  })
}
