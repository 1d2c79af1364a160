// The redirect target of the authorization-code flow: checks state, iss and nonce, exchanges the code with PKCE,
// then continues in the demo, signed in with the session the sign-in created.
import { finishCodeFlow } from './auth.js'

try {
  await finishCodeFlow(new URLSearchParams(location.search))
  location.replace('/')
} catch (err) {
  document.getElementById('code-result').textContent =
    `Sign-in failed: ${err.message.replace(/\.$/, '')}. Please start again.`
  document.getElementById('back').hidden = false
  document.body.dataset.ready = 'true'
}
