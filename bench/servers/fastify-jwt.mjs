// Baseline: @fastify/jwt verifying an RS256 token on every request.
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose'

const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
const app = Fastify({ logger: false })
await app.register(fastifyJwt, {
  secret: { private: await exportPKCS8(privateKey), public: await exportSPKI(publicKey) },
  sign: { algorithm: 'RS256', expiresIn: '1h' },
  verify: { algorithms: ['RS256'] },
})
app.get('/healthz', async () => ({ ok: true }))
app.get('/token', async () => ({ token: app.jwt.sign({ sub: 'bench', scope: 'notes:read' }) }))
app.get('/protected', { onRequest: (request) => request.jwtVerify() }, async (request) => ({ sub: request.user.sub }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
