// Peer: node-oidc-provider with client_credentials and refresh_token, issuing JWT access tokens (resource indicators).

import { exportJWK, generateKeyPair } from 'jose'
import Provider from 'oidc-provider'

const port = Number(process.env.PORT)
const issuer = `http://127.0.0.1:${port}`
const RESOURCE = 'https://api.test'
const { privateKey } = await generateKeyPair('RS256', { extractable: true })
const jwk = { ...(await exportJWK(privateKey)), use: 'sig', alg: 'RS256' }

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench',
      client_secret: 'bench-secret-0123456789abcdef0123456789abcdef',
      grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
      redirect_uris: ['https://client.test/cb'],
      response_types: ['code'],
      scope: 'openid offline_access notes:read',
    },
  ],
  jwks: { keys: [jwk] },
  scopes: ['openid', 'offline_access', 'notes:read'],
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'notes:read',
        audience: RESOURCE,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 300,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  rotateRefreshToken: true,
  ttl: { RefreshToken: 86_400, Grant: 86_400, Session: 86_400 },
})

// Bench helper: mint refresh tokens directly (an authorization-code login per chain would dominate the setup).
provider.use(async (ctx, next) => {
  if (ctx.path !== '/bench/refresh-tokens') return next()
  const client = await provider.Client.find('bench')
  const count = Number(ctx.query.n ?? 100)
  const tokens = []
  for (let i = 0; i < count; i++) {
    const accountId = `user-${i}`
    const session = new provider.Session({ accountId, loginTs: Math.floor(Date.now() / 1000) })
    session.authorizationFor('bench')
    const grant = new provider.Grant({ clientId: 'bench', accountId })
    grant.addOIDCScope('openid offline_access')
    grant.addResourceScope(RESOURCE, 'notes:read')
    const grantId = await grant.save()
    const refresh = new provider.RefreshToken({
      client,
      accountId,
      grantId,
      gty: 'authorization_code',
      scope: 'openid offline_access',
      resource: RESOURCE,
      sessionUid: session.uid,
      authTime: Math.floor(Date.now() / 1000),
      rotations: 0,
      iiat: Math.floor(Date.now() / 1000),
    })
    tokens.push(await refresh.save())
  }
  ctx.body = { tokens }
})

provider.listen(port, '127.0.0.1')
