// The sign-in page as a browser uses it, from an HTTP client: for third-party-library code-flow tests.

/** What a browser does with the sign-in page: keep the cookie, post the form with the hidden fields. */
export async function submitLoginForm(authorizationUrl: URL, username: string, password: string): Promise<URL> {
  const page = await fetch(authorizationUrl, { redirect: 'manual' })
  if (page.status !== 200) throw new Error(`sign-in page: ${page.status}`)
  const html = await page.text()
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? ''
  const fields = new URLSearchParams()
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.append(
      m[1] as string,
      (m[2] as string)
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'"),
    )
  }
  fields.set('username', username)
  fields.set('password', password)
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] as string
  const res = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: fields,
  })
  if (res.status !== 303) throw new Error(`sign-in: ${res.status}`)
  return new URL(res.headers.get('location') as string)
}
