// Baseline: a bare Fastify /token that only signs a JWT with jose (no client auth, no storage), with ALG (RS256 by
// default, or ES256, EdDSA): the limit a token endpoint signing that algorithm can approach.
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import { generateKeyPair, SignJWT } from 'jose'

const alg = process.env.ALG ?? 'RS256'
const { privateKey } = await generateKeyPair(alg)
const app = Fastify({ logger: false })
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
  done(null, body),
)
app.get('/healthz', async () => ({ ok: true }))
app.post('/token', async () => {
  const iat = Math.floor(Date.now() / 1000)
  const token = await new SignJWT({
    iss: 'http://localhost',
    sub: 'bench',
    aud: 'https://api.test',
    exp: iat + 300,
    iat,
    jti: randomUUID(),
    client_id: 'bench',
    scope: 'notes:read',
  })
    .setProtectedHeader({ alg, typ: 'at+jwt', kid: 'k' })
    .sign(privateKey)
  return { access_token: token, token_type: 'Bearer', expires_in: 300, scope: 'notes:read' }
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
