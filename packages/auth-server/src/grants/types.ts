// The shape every grant shares: its type, the parameters it reads, and its handler.
import type { FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import type { FormBody } from '../params.js'
import type { ClientRecord, GrantType } from '../store/types.js'
import type { TokenResponse } from '../tokens/token-response.js'

export type { TokenResponse }

export interface GrantRequest {
  readonly body: FormBody
  readonly client: ClientRecord
  readonly request: FastifyRequest
  readonly ctx: ServerContext
  /** The thumbprint of the request's DPoP key, when it carried a valid proof: the tokens are bound to it. */
  readonly jkt: string | undefined
}

export interface Grant {
  readonly grantType: GrantType
  /** Parameters this grant reads, for documentation and OpenAPI. */
  readonly parameters: readonly string[]
  handler(req: GrantRequest): Promise<TokenResponse>
}
