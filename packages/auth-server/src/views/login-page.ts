// The server-rendered sign-in page of the authorization flow: no scripts, no external assets, accessible form.
import { createHash } from 'node:crypto'

const STYLE = `
  :root { color-scheme: light dark; --bg: #f6f7fb; --surface: #fff; --text: #1d2330; --muted: #5d6678; --line: #dfe3ec;
    --accent: #3b5bdb; --accent-text: #fff; --danger: #c92a2a;
    font-family: "Inter", "Segoe UI", system-ui, -apple-system, sans-serif; font-size: 16px; line-height: 1.5; }
  @media (prefers-color-scheme: dark) { :root { --bg: #11141b; --surface: #1a1f29; --text: #e6e9f0; --muted: #9aa3b5;
    --line: #2c3342; --accent: #748ffc; --accent-text: #0d1020; --danger: #ff8787; } }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--text); }
  main { width: min(24rem, calc(100vw - 2rem)); padding: 2rem; background: var(--surface); border: 1px solid var(--line);
    border-radius: 10px; overflow-wrap: anywhere; }
  @media (max-width: 360px) { main { padding: 1.5rem 1.25rem; } }
  .brand { font-weight: 700; color: var(--accent); margin: 0 0 1rem; font-size: .875rem; letter-spacing: .02em; }
  h1 { font-size: 1.5rem; line-height: 1.3; margin: 0 0 .25rem; }
  p { margin: 0 0 1.25rem; color: var(--muted); }
  strong { color: var(--text); }
  label { display: block; font-weight: 600; font-size: .875rem; margin: .75rem 0 .25rem; }
  input[type=text], input[type=password] { width: 100%; padding: .5rem .75rem; font: inherit; color: var(--text);
    background: var(--bg); border: 1px solid var(--line); border-radius: 8px; }
  button { margin-top: 1.25rem; width: 100%; padding: .6rem; font: inherit; font-weight: 600; cursor: pointer;
    color: var(--accent-text); background: var(--accent); border: 1px solid var(--accent); border-radius: 8px; }
  input:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .error { color: var(--danger); border: 1px solid var(--danger); border-radius: 8px; padding: .5rem .75rem;
    margin-bottom: 1rem; }
  button.secondary { color: var(--text); background: transparent; border-color: var(--line); margin-top: .75rem; }
  .code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; letter-spacing: .15em; text-transform: uppercase; }
  ul.scopes { margin: 0 0 1rem; padding-left: 1.25rem; }
  ul.scopes li { margin: .25rem 0; overflow-wrap: anywhere; }
`

/** The CSP source for the page's one inline style block. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`

export const escapeHtml = (value: string): string =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand">Tollgate</p>
${body}
</main>
</body>
</html>
`
}

export interface LoginPageInput {
  readonly clientName: string
  readonly action: string
  readonly hidden: Readonly<Record<string, string | readonly string[]>>
  readonly username?: string
  readonly error?: string
}

/** The sign-in form; the authorization request travels in hidden fields and is validated again on submit. */
export function loginPage(input: LoginPageInput): string {
  const hidden = Object.entries(input.hidden)
    .flatMap(([name, value]) =>
      [value].flat().map((v) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(v)}">`),
    )
    .join('\n')
  const error = input.error ? `<div class="error" role="alert" id="login-error">${escapeHtml(input.error)}</div>` : ''
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(input.clientName)}</strong></p>
${error}
<form method="post" action="${escapeHtml(input.action)}" novalidate>
${hidden}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(input.username ?? '')}"${input.error ? ' aria-describedby="login-error"' : ''} autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  )
}

/** A dead end that never redirects: for requests whose client or redirect_uri cannot be trusted. */
export function errorPage(message: string): string {
  return page(
    'Sign-in error',
    `<h1>This sign-in link cannot be used</h1>
<p role="alert">${escapeHtml(message)}</p>
<p>Go back to the application and start again.</p>`,
  )
}

/** After RP-initiated logout without a return address. */
export function signedOutPage(clientName: string): string {
  return page(
    'Signed out',
    `<h1>You are signed out</h1>
<p>Your sign-in at <strong>${escapeHtml(clientName)}</strong> has ended. You can close this page.</p>`,
  )
}

/** A sign-out request that cannot be trusted: no redirect, say why. */
export function logoutErrorPage(message: string): string {
  return page(
    'Sign-out error',
    `<h1>This sign-out link cannot be used</h1>
<p role="alert">${escapeHtml(message)}</p>
<p>Go back to the application and sign out from there.</p>`,
  )
}
