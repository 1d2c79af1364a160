// The redirect target of the authorization-code flow: checks state, iss and nonce, exchanges the code with PKCE.
import { finishCodeFlow } from './auth.js'

try {
  const { tokens, claims } = await finishCodeFlow(new URLSearchParams(location.search))
  document.getElementById('code-result').textContent =
    `Signed in as ${claims.preferred_username ?? claims.sub} with the authorization code flow`
  document.getElementById('code-claims').textContent = JSON.stringify(
    { sub: claims.sub, name: claims.name, scope: tokens.scope, expires_in: tokens.expires_in },
    null,
    2,
  )
} catch (err) {
  document.getElementById('code-result').textContent = `Sign-in failed: ${err.message}`
}
document.body.dataset.ready = 'true'
