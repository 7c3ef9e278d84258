import { parseCidr, parseIp, type ParsedIp } from './ip.js';

type Range = readonly [ParsedIp, number];

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
    const range = entry.includes('/') ? parseCidr(entry) : singleAddress(entry);
    if (!range) throw new Error(`invalid IP or CIDR "${entry}"`);
    (range[0].kind() === 'ipv4' ? this.ipv4 : this.ipv6).push(range);
  }
}

function singleAddress(entry: string): Range | null {
  const parsed = parseIp(entry);
  if (!parsed) return null;
  return [parsed, parsed.kind() === 'ipv4' ? 32 : 128];
}
