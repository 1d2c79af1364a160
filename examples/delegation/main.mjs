// Run it: `pnpm build && node examples/delegation/main.mjs`. Starts a test issuer (the real auth server, in memory),
// the three services, signs alice in at the web app, and checks out through the gateway: each service prints who is
// acting for whom, and the answer shows what inventory saw.
import { createTestIssuer } from '@tollgate/auth-server/testing'
import { CLIENTS, startAll } from './services.mjs'

const issuer = await createTestIssuer({
  clients: CLIENTS,
  users: [{ username: 'alice', password: 'alice-password-123', roles: ['customer'] }],
})
const services = await startAll(issuer.url, (line) => console.log(line))
try {
  const [web] = CLIENTS
  const login = await fetch(issuer.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${web.client_id}:${web.client_secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'password',
      username: 'alice',
      password: 'alice-password-123',
      scope: 'profile orders:write stock:read',
    }),
  })
  const { access_token } = await login.json()
  const res = await fetch(`${services.gateway.url}/checkout`, {
    method: 'POST',
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'tea-42' }),
  })
  console.log(`checkout: ${res.status}`, JSON.stringify(await res.json()))
} finally {
  await services.close()
  await issuer.close()
}
