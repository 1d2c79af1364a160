// The device authorization grant from the client's side (RFC 8628): what a CLI does to sign its user in without a
// browser of its own — ask for a code, show it, poll the token endpoint at the interval the server asks for.
import { DiscoveryError, TokenEndpointError, TokenRequestError } from './errors.js'
import { discover } from './lib/discovery.js'

/** What to show the user (RFC 8628 §3.3): go to `verificationUri` and enter `userCode`, or open the complete URI. */
export interface DeviceCodePrompt {
  readonly userCode: string
  readonly verificationUri: string
  readonly verificationUriComplete: string | undefined
  /** Seconds the code stays valid. */
  readonly expiresIn: number
}

export interface DeviceLoginOptions {
  readonly issuer: string | URL
  readonly clientId: string
  /** For a confidential client (most CLIs are public clients and have none). */
  readonly clientSecret?: string
  readonly scope?: string
  /** RFC 8707 resource indicators: the audiences the tokens are for. */
  readonly resource?: string | readonly string[]
  /** Called once with the code to show the user; the polling starts when it returns. */
  readonly onPrompt: (prompt: DeviceCodePrompt) => void | Promise<void>
  /** Stops waiting (rejects with the signal's reason). */
  readonly signal?: AbortSignal
  readonly fetch?: typeof fetch
  /** Sleeps between polls; injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>
}

/** The token response once the user has approved. */
export interface DeviceLoginTokens {
  readonly access_token: string
  readonly token_type: string
  readonly expires_in: number
  readonly scope?: string
  readonly refresh_token?: string
  readonly id_token?: string
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })

/**
 * Runs the device authorization grant to its end: the user's tokens, or a TokenEndpointError (`access_denied`,
 * `expired_token`, …). Polling honours the interval and every `slow_down` (RFC 8628 §3.5).
 *
 * @example
 * const tokens = await deviceLogin({
 *   issuer: 'https://auth.example', clientId: 'deploy-cli', scope: 'openid deploy',
 *   onPrompt: ({ verificationUriComplete, userCode }) => console.log(`Open ${verificationUriComplete} (code ${userCode})`),
 * })
 */
export async function deviceLogin(options: DeviceLoginOptions): Promise<DeviceLoginTokens> {
  const doFetch = options.fetch ?? globalThis.fetch
  const issuer = String(options.issuer)
  const metadata = await discover(issuer, async (url) => {
    const res = await doFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) })
    return { status: res.status, body: await res.json().catch(() => undefined) }
  })
  const deviceEndpoint = metadata.device_authorization_endpoint
  const tokenEndpoint = metadata.token_endpoint
  if (typeof deviceEndpoint !== 'string' || typeof tokenEndpoint !== 'string') {
    throw new DiscoveryError(`${issuer} does not offer the device authorization grant`)
  }

  const authenticated = (form: URLSearchParams): Record<string, string> => {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    }
    if (options.clientSecret === undefined) {
      form.set('client_id', options.clientId)
    } else {
      const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
      headers.authorization = `Basic ${Buffer.from(`${encode(options.clientId)}:${encode(options.clientSecret)}`).toString('base64')}`
    }
    return headers
  }
  const post = async (url: string, form: URLSearchParams) => {
    const headers = authenticated(form)
    let res: Response
    try {
      res = await doFetch(url, { method: 'POST', headers, body: form.toString(), signal: AbortSignal.timeout(10_000) })
    } catch (err) {
      throw new TokenRequestError(`${url} could not be reached: ${(err as Error).message}`, undefined, { cause: err })
    }
    const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined
    return { status: res.status, json }
  }
  const refused = (status: number, json: Record<string, unknown> | undefined) =>
    new TokenEndpointError(
      typeof json?.error === 'string' ? json.error : 'invalid_response',
      status,
      typeof json?.error_description === 'string' ? json.error_description : undefined,
    )

  const request = new URLSearchParams()
  if (options.scope) request.set('scope', options.scope)
  for (const resource of [options.resource ?? []].flat()) request.append('resource', resource)
  const started = await post(deviceEndpoint, request)
  const answer = started.json
  if (started.status !== 200 || typeof answer?.device_code !== 'string' || typeof answer.user_code !== 'string') {
    throw refused(started.status, answer)
  }
  await options.onPrompt({
    userCode: answer.user_code,
    verificationUri: String(answer.verification_uri),
    verificationUriComplete:
      typeof answer.verification_uri_complete === 'string' ? answer.verification_uri_complete : undefined,
    expiresIn: Number(answer.expires_in),
  })

  const sleep = options.sleep ?? ((ms: number) => defaultSleep(ms, options.signal))
  let interval = Number(answer.interval) > 0 ? Number(answer.interval) : 5
  const deadline = Date.now() + Number(answer.expires_in || 600) * 1000
  for (;;) {
    options.signal?.throwIfAborted()
    await sleep(interval * 1000)
    const poll = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: answer.device_code,
    })
    const { status, json } = await post(tokenEndpoint, poll)
    if (status === 200 && typeof json?.access_token === 'string') return json as unknown as DeviceLoginTokens
    const error = json?.error
    if (error === 'authorization_pending' && Date.now() < deadline + interval * 1000) continue
    if (error === 'slow_down') {
      interval += 5
      continue
    }
    if (status >= 500 && Date.now() < deadline) continue
    throw refused(status, json)
  }
}
