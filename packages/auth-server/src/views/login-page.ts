// The server-rendered sign-in page of the authorization flow: no scripts, no external assets, accessible form.
import { createHash } from 'node:crypto'

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
  main { width: min(22rem, 90vw); padding: 2rem; border: 1px solid GrayText; border-radius: .75rem; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  p { margin: 0 0 1.25rem; }
  label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .6rem; font: inherit; }
  button { margin-top: 1.25rem; width: 100%; padding: .7rem; font: inherit; font-weight: 600; cursor: pointer; }
  .error { border: 2px solid #b00020; border-radius: .4rem; padding: .6rem; margin-bottom: 1rem; }
`

/** The CSP source for the page's one inline style block. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`

const escapeHtml = (value: string): string =>
  value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

function page(title: string, body: string): string {
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
