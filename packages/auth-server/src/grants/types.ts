// The shape every grant shares: its type, the parameters it reads, and its handler.
import type { FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import type { FormBody } from '../params.js'
import type { ClientRecord, GrantType } from '../store/types.js'

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  refresh_token?: string
  id_token?: string
}

export interface GrantRequest {
  readonly body: FormBody
  readonly client: ClientRecord
  readonly request: FastifyRequest
  readonly ctx: ServerContext
}

export interface Grant {
  readonly grantType: GrantType
  /** Parameters this grant reads, for documentation and OpenAPI. */
  readonly parameters: readonly string[]
  handler(req: GrantRequest): Promise<TokenResponse>
}
