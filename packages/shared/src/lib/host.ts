// Whether a Host (or X-Forwarded-Host) value can name a URL's authority: what a service checks before it builds a URL
// from it (a DPoP proof's `htu`), so a hostile header is a 400, never an exception.

/** A registered name, IPv4 address or bracketed IPv6 literal, with an optional port (RFC 3986 §3.2.2, §3.2.3). */
const HOST = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9._~-]{1,253})(?::\d{1,5})?$/

/**
 * @example
 * validHost('api.example:8443') // true
 * validHost('a b') // false
 */
export function validHost(host: string | undefined): host is string {
  if (host === undefined || !HOST.test(host)) return false
  const colon = host.lastIndexOf(':')
  if (colon > host.lastIndexOf(']') && Number(host.slice(colon + 1)) > 65_535) return false
  try {
    new URL(`http://${host}/`)
    return true
  } catch {
    return false
  }
}
