/**
 * Which clients may vouch for X-Forwarded-For/Proto/Host: the proxies in front of this one
 * (a TLS terminator, a cloud load balancer), listed per service as addresses or CIDR
 * blocks. From any other client those headers are replaced by what this proxy saw, so a
 * client can pose neither as another address nor as having come over HTTPS.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net'

/** One entry of a trust list: an address, or a block in CIDR notation. */
export interface Forwarder {
  address: string
  family: 'ipv4' | 'ipv6'
  /** The prefix length; the whole address (32 or 128) for a single address. */
  prefix: number
}

/** What is wrong with an entry that parseForwarder refuses, for the error that names it. */
export const NOT_A_FORWARDER = 'must be an IP address or a CIDR block, such as "10.0.0.5", "10.0.0.0/8" or "2001:db8::/32"'

/** The entry `text` ("10.0.0.0/8", "192.0.2.7", "2001:db8::/32"), or undefined when it is none. */
export function parseForwarder(text: string): Forwarder | undefined {
  const [address = '', prefixText, ...rest] = text.split('/')
  // A zone ("fe80::1%eth0") would be dropped by BlockList and the entry trusted on every interface.
  if (rest.length > 0 || address.includes('%')) return undefined
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined
  if (family === undefined) return undefined
  const bits = family === 'ipv4' ? 32 : 128
  if (prefixText === undefined) return { address, family, prefix: bits }
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return undefined
  return { address, family, prefix: Number(prefixText) }
}

export class ForwarderTrust {
  private readonly list = new BlockList()

  /** `entries` are already validated (route-schema.ts); one that is not is an error here. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const forwarder = parseForwarder(entry)
      if (forwarder === undefined) throw new TypeError(`not an address or CIDR block: ${entry}`)
      this.list.addSubnet(forwarder.address, forwarder.prefix, forwarder.family)
    }
  }

  /**
   * True when the client at `address` (a socket's remoteAddress) is a listed forwarder.
   * BlockList matches an IPv4 entry against the IPv4-mapped form ("::ffff:10.0.0.1") that a
   * socket listening on "::" reports, and the other way round.
   */
  trusts(address: string): boolean {
    if (isIPv4(address)) return this.list.check(address, 'ipv4')
    return isIPv6(address) && this.list.check(address, 'ipv6')
  }
}
