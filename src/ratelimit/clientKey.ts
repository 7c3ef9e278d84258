import { isIP } from 'node:net';
import type ipaddr from 'ipaddr.js';
import { parseIp } from '../net/ip.js';

/**
 * The failed-auth counter key of a client IP. An IPv6 client usually owns a whole /64, so counting per
 * address would let it rotate through 2^64 fresh counters; IPv4 is counted per address.
 */
export function rateLimitKey(clientIp: string): string {
  // node accepts canonical dotted-quad decimal only; IPv6 skips straight to the (memoised) parse
  if (!clientIp.includes(':') && isIP(clientIp) === 4) return clientIp;
  const parsed = parseIp(clientIp);
  if (!parsed) return clientIp;
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${parts.join(':')}::/64`;
}
