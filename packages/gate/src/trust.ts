// TRUST_PROXY: the addresses whose description of the original request the gate believes.
import { BlockList, isIP } from 'node:net'

/** Named ranges, as proxy-addr (Express, Fastify) spells them. */
const NAMED: Record<string, readonly [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  linklocal: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  uniquelocal: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
}

/** Whether a peer address may describe the original request. */
export type TrustedPeer = (address: string | undefined) => boolean

/**
 * Parses a comma-separated list of addresses, CIDR ranges and the names `loopback`, `linklocal`, `uniquelocal`.
 * Throws a `TypeError` naming the first entry it cannot read.
 *
 * @example
 * const trusted = trustedPeers('loopback, 10.0.0.0/8')
 * trusted('::ffff:127.0.0.1') // true
 */
export function trustedPeers(spec: string): TrustedPeer {
  const list = new BlockList()
  const entries = spec
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
  if (entries.length === 0) throw new TypeError('names no address')
  for (const entry of entries) {
    const named = NAMED[entry.toLowerCase()]
    if (named) {
      for (const [address, prefix, family] of named) list.addSubnet(address, prefix, family)
      continue
    }
    const [address = '', prefixText, extra] = entry.split('/')
    const family = isIP(address)
    const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText)
    if (
      family === 0 ||
      extra !== undefined ||
      (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) ||
      prefix > (family === 6 ? 128 : 32)
    ) {
      throw new TypeError(`"${entry}" is not an address, a CIDR range or one of loopback, linklocal, uniquelocal`)
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4')
  }
  const check = (address: string): boolean => {
    // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 addresses.
    const v4 = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : undefined
    if (v4 !== undefined) return list.check(v4, 'ipv4')
    const family = isIP(address)
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }
  // A BlockList lookup costs microseconds, and a gate hears from a handful of proxies: remember the answers.
  const known = new Map<string, boolean>()
  return (address) => {
    if (address === undefined) return false
    let trusted = known.get(address)
    if (trusted === undefined) {
      trusted = check(address)
      if (known.size >= 1_024) known.clear()
      known.set(address, trusted)
    }
    return trusted
  }
}
