import { isIP } from 'node:net';
import type ipaddr from 'ipaddr.js';
import { ipv4Value, parseCidr, parseIp, type ParsedIp } from './ip.js';

type Range = readonly [ParsedIp, number];
/** An IPv4 range as 32-bit network and mask: checked per request without building an address object. */
type Ipv4Range = readonly [network: number, mask: number];

/** gateway.trustedProxies as parsed ranges: single IPs are /32 or /128. */
export class TrustedProxies {
  private readonly ipv4: Ipv4Range[] = [];
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
    if (!ip.includes(':')) return isIP(ip) === 4 && this.containsIpv4(ipv4Value(ip));
    const parsed = parseIp(ip); // IPv6 (memoised)
    if (!parsed) return false;
    // An IPv4-mapped IPv6 address is the IPv4 address it maps.
    if (parsed.kind() === 'ipv4') return this.containsIpv4(ipv4Value(parsed.toString()));
    // ipaddr's match() needs both sides of the same kind; the split above guarantees it.
    return this.ipv6.some(([network, bits]) => parsed.match(network as never, bits));
  }

  private containsIpv4(value: number): boolean {
    for (const [network, mask] of this.ipv4) if (((value & mask) >>> 0) === network) return true;
    return false;
  }

  private add(entry: string): void {
    const range = entry.includes('/') ? parseCidr(entry) : singleAddress(entry);
    if (!range) throw new Error(`invalid IP or CIDR "${entry}"`);
    const [network, bits] = range;
    if (network.kind() !== 'ipv4') {
      this.ipv6.push(range);
      return;
    }
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    this.ipv4.push([(ipv4Value((network as ipaddr.IPv4).toString()) & mask) >>> 0, mask]);
  }
}

function singleAddress(entry: string): Range | null {
  const parsed = parseIp(entry);
  if (!parsed) return null;
  return [parsed, parsed.kind() === 'ipv4' ? 32 : 128];
}
