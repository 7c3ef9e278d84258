import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type ParsedIp = ipaddr.IPv4 | ipaddr.IPv6;
export type ParsedCidr = readonly [network: ParsedIp, prefixBits: number];

const DOTTED_QUAD_TAIL = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const PREFIX_BITS = /^\d{1,3}$/;

/**
 * Strict parse of one IP literal (dotted-quad IPv4 or IPv6, optional zone). ipaddr.js alone also accepts
 * legacy forms such as `0x7f.1`, which no proxy writes and which would only widen what an attacker can
 * smuggle through a header. IPv4-mapped IPv6 becomes IPv4. A zone id (`fe80::1%eth0`) is dropped: it
 * names a link of the machine that wrote it, not a different client, and it is unbounded in length.
 */
export function parseIp(text: string): ParsedIp | null {
  const known = text.includes(':') ? PARSED_IPV6.get(text) : undefined;
  if (known !== undefined) return known;
  const version = isIP(text);
  if (version === 0) return null;
  // Hot path (several calls per request): node accepts only plain dotted-quad decimal as IPv4, so the
  // octets can be read directly instead of through ipaddr's legacy-form regexes.
  if (version === 4) return new ipaddr.IPv4(text.split('.').map(Number));
  // IPv6 goes through ipaddr's regexes, three times per request (client, trusted-proxy check, limiter
  // key): remember the last few thousand (checked above, before node's long IPv6 regex). The parsed
  // objects are never mutated.
  const parsed = parseIpv6(text);
  remember(PARSED_IPV6, text, parsed);
  return parsed;
}

/** Bounded memo of IPv6 parses; cleared when full, so addresses rotated by a flood cost a parse, never memory. */
const MAX_MEMO_ENTRIES = 4_096;
const PARSED_IPV6 = new Map<string, ParsedIp | null>();
const CANONICAL_IPV6 = new Map<string, string>();

function remember<T>(memo: Map<string, T>, key: string, value: T): void {
  if (key.length > 64) return; // longer than any address without a zone: not worth keeping
  if (memo.size >= MAX_MEMO_ENTRIES) memo.clear();
  memo.set(key, value);
}

function parseIpv6(text: string): ParsedIp | null {
  const zoneStart = text.indexOf('%');
  const address = zoneStart === -1 ? text : text.slice(0, zoneStart);
  try {
    return ipaddr.process(address.includes(':') ? hexTail(address) : address);
  } catch {
    return null;
  }
}

/** Canonical text of an IP (IPv4-mapped → IPv4, IPv6 compressed, no zone), or null when it is not an IP literal. */
export function normalizeIp(text: string): string | null {
  const known = text.includes(':') ? CANONICAL_IPV6.get(text) : undefined;
  if (known !== undefined) return known;
  // node's isIP accepts IPv4 only as plain dotted-quad decimal without leading zeros: already canonical.
  const version = isIP(text);
  if (version === 4) return text;
  if (version === 0) return null;
  const parsed = parseIp(text);
  if (!parsed) return null;
  const canonical = parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
  remember(CANONICAL_IPV6, text, canonical);
  return canonical;
}

/**
 * The 32-bit value of an IPv4 literal that `net.isIP` accepted (dotted-quad decimal, nothing else); the
 * hot-path form for range checks, with no object built.
 */
export function ipv4Value(text: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 /* . */) {
      value = (value << 8) | octet;
      octet = 0;
    } else {
      octet = octet * 10 + (code - 48);
    }
  }
  return ((value << 8) | octet) >>> 0;
}

/**
 * `ip/bits` with the same strict address rules as parseIp; an IPv4-mapped network of at least /96
 * becomes the IPv4 network it maps. Null for anything else (legacy IPv4 forms, bits out of range).
 */
export function parseCidr(text: string): ParsedCidr | null {
  const slash = text.indexOf('/');
  if (slash === -1 || slash !== text.lastIndexOf('/')) return null;
  const bitsText = text.slice(slash + 1);
  if (!PREFIX_BITS.test(bitsText)) return null;
  const bits = Number(bitsText);
  const addressText = text.slice(0, slash);
  const parsed = parseIp(addressText);
  if (!parsed) return null;
  // parseIp already turned a mapped address into IPv4; the prefix must follow it into the IPv4 space.
  const writtenAsIpv6 = addressText.includes(':');
  if (parsed.kind() === 'ipv4' && writtenAsIpv6) {
    if (bits > 128) return null;
    if (bits < 96) return [ipaddr.IPv4.parse(parsed.toString()).toIPv4MappedAddress(), bits];
    return [parsed, bits - 96];
  }
  if (bits > (parsed.kind() === 'ipv4' ? 32 : 128)) return null;
  return [parsed, bits];
}

/**
 * `::1.2.3.4` with its IPv4 tail as two hex groups (`::102:304`). ipaddr.js 2.x reads the deprecated
 * IPv4-compatible form `::a.b.c.d` as the mapped `::ffff:a.b.c.d`, which would turn `::127.0.0.1`
 * into the IPv4 loopback.
 */
function hexTail(address: string): string {
  const tail = DOTTED_QUAD_TAIL.exec(address);
  if (!tail) return address;
  const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
  const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  return address.slice(0, tail.index) + hex;
}
