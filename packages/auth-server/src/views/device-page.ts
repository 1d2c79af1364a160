// The device verification pages (RFC 8628 §3.3): enter the code shown on the device and sign in, then approve or deny
// what the device asks for. Same design as the sign-in page; no scripts.
import { escapeHtml, page } from './login-page.js'

const hiddenFields = (hidden: Readonly<Record<string, string>>) =>
  Object.entries(hidden)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n')

export interface DeviceCodePageInput {
  readonly action: string
  readonly csrf: string
  readonly userCode?: string
  readonly username?: string
  readonly error?: string
}

/** Step 1: the code from the device, and the user's credentials. */
export function deviceCodePage(input: DeviceCodePageInput): string {
  const error = input.error ? `<div class="error" role="alert" id="device-error">${escapeHtml(input.error)}</div>` : ''
  const described = input.error ? ' aria-describedby="device-error"' : ''
  return page(
    'Connect a device',
    `<h1>Connect a device</h1>
<p>Enter the code your device or command line shows, then sign in.</p>
${error}
<form method="post" action="${escapeHtml(input.action)}" novalidate>
${hiddenFields({ csrf: input.csrf })}
<label for="user_code">Code from your device</label>
<input type="text" class="code" id="user_code" name="user_code" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" inputmode="text" placeholder="XXXX-XXXX" required value="${escapeHtml(input.userCode ?? '')}"${described}${input.userCode ? '' : ' autofocus'}>
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(input.username ?? '')}"${input.userCode ? ' autofocus' : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Continue</button>
</form>`,
  )
}

export interface DeviceConsentPageInput {
  readonly action: string
  readonly csrf: string
  readonly consent: string
  readonly clientName: string
  readonly userCode: string
  readonly username: string
  readonly scopes: readonly string[]
}

/** What a scope lets the device do, in words where we know it. */
const SCOPE_WORDS: Record<string, string> = {
  openid: 'know who you are',
  profile: 'see your name and profile picture',
  email: 'see your email address',
  offline_access: 'stay signed in',
}

/** Step 2: which application, as whom, asking for what — approve or deny. */
export function deviceConsentPage(input: DeviceConsentPageInput): string {
  const items = input.scopes.length
    ? input.scopes
        .map(
          (s) =>
            `<li>${SCOPE_WORDS[s] ? `${escapeHtml(SCOPE_WORDS[s])} (<code>${escapeHtml(s)}</code>)` : `use <code>${escapeHtml(s)}</code>`}</li>`,
        )
        .join('\n')
    : '<li>sign in as you</li>'
  return page(
    'Allow this device?',
    `<h1>Allow <strong>${escapeHtml(input.clientName)}</strong>?</h1>
<p>Signed in as <strong>${escapeHtml(input.username)}</strong>. The device showing <strong class="code">${escapeHtml(input.userCode)}</strong> will be able to:</p>
<ul class="scopes">
${items}
</ul>
<p>Only allow it if you started this on a device you trust, and the code matches.</p>
<form method="post" action="${escapeHtml(input.action)}">
${hiddenFields({ csrf: input.csrf, consent: input.consent })}
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  )
}

/** Step 3: done, either way. */
export function deviceDonePage(approved: boolean, clientName: string): string {
  return approved
    ? page(
        'Device connected',
        `<h1>Device connected</h1>
<p><strong>${escapeHtml(clientName)}</strong> is signed in as you. You can close this page and return to your device.</p>`,
      )
    : page(
        'Request denied',
        `<h1>Request denied</h1>
<p><strong>${escapeHtml(clientName)}</strong> was not given access. You can close this page.</p>`,
      )
}

/** The code or the decision can no longer be used (expired, already answered, a stale form). */
export function deviceErrorPage(message: string): string {
  return page(
    'Connect a device',
    `<h1>This code cannot be used</h1>
<p role="alert">${escapeHtml(message)}</p>
<p>Start again on your device to get a new code.</p>`,
  )
}
