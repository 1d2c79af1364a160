// Where keys come from (a client's `jwks_uri`, a trusted issuer and its JWKS): https only, except on loopback hosts.

/** Hosts a URL may name with plain http: this machine (development and tests). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1'
}

/**
 * Why `value` cannot be a URL keys are fetched from, or undefined when it can: an absolute https URL (http only on a
 * loopback host), without credentials or fragment. A key URL fetched over plain http could hand anyone's keys to
 * whoever sits on the path.
 *
 * @example
 * keyUrlProblem('http://issuer.internal/jwks') // 'must use https (http only on loopback hosts)'
 */
export function keyUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'must be a URL'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not an absolute URL'
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return 'must use https (http only on loopback hosts)'
  }
  if (url.username || url.password) return 'must not contain credentials'
  if (url.hash || value.includes('#')) return 'must not have a fragment'
  return undefined
}
