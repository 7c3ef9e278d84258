import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type ParsedIp = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Strict parse of one IP literal (dotted-quad IPv4 or IPv6, optional zone). ipaddr.js alone also accepts
 * legacy forms such as `0x7f.1`, which no proxy writes and which would only widen what an attacker can
 * smuggle through a header. IPv4-mapped IPv6 becomes IPv4.
 */
export function parseIp(text: string): ParsedIp | null {
  if (isIP(text) === 0) return null;
  try {
    return ipaddr.process(text);
  } catch {
    return null;
  }
}

/** Canonical text of an IP (IPv4-mapped → IPv4, IPv6 compressed), or null when it is not an IP literal. */
export function normalizeIp(text: string): string | null {
  const parsed = parseIp(text);
  if (!parsed) return null;
  return parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
}
