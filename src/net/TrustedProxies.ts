import ipaddr from 'ipaddr.js';
import { parseIp, type ParsedIp } from './ip.js';

type Range = readonly [ParsedIp, number];

const IPV4_MAPPED_PREFIX_BITS = 96;

/** gateway.trustedProxies as parsed ranges: single IPs are /32 or /128. */
export class TrustedProxies {
  private readonly ipv4: Range[] = [];
  private readonly ipv6: Range[] = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) this.add(entry.trim());
  }

  get size(): number {
    return this.ipv4.length + this.ipv6.length;
  }

  /** False for anything that is not an IP literal. */
  contains(ip: string): boolean {
    if (this.size === 0) return false;
    const parsed = parseIp(ip);
    if (!parsed) return false;
    const ranges = parsed.kind() === 'ipv4' ? this.ipv4 : this.ipv6;
    // ipaddr's match() needs both sides of the same kind; the split above guarantees it.
    return ranges.some(([network, bits]) => parsed.match(network as never, bits));
  }

  private add(entry: string): void {
    let network: ParsedIp;
    let bits: number;
    if (entry.includes('/')) {
      [network, bits] = ipaddr.parseCIDR(entry);
    } else {
      const parsed = parseIp(entry);
      if (!parsed) throw new Error(`invalid IP or CIDR "${entry}"`);
      network = parsed;
      bits = parsed.kind() === 'ipv4' ? 32 : 128;
    }
    if (network.kind() === 'ipv6' && (network as ipaddr.IPv6).isIPv4MappedAddress() && bits >= IPV4_MAPPED_PREFIX_BITS) {
      network = (network as ipaddr.IPv6).toIPv4Address();
      bits -= IPV4_MAPPED_PREFIX_BITS;
    }
    (network.kind() === 'ipv4' ? this.ipv4 : this.ipv6).push([network, bits]);
  }
}
