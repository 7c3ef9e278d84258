// A reference model of IP addresses for the property tests: an address is a number of 32 or 128 bits,
// rendered into every textual form a proxy, a kernel or an attacker might write.
import fc from 'fast-check';

export interface Address {
  readonly kind: 4 | 6;
  readonly value: bigint;
}

const MAPPED_PREFIX = 0xffffn << 32n;
const LOW_32 = (1n << 32n) - 1n;

export function isIpv4Mapped(value: bigint): boolean {
  return value >> 32n === 0xffffn;
}

/** What the gateway must treat the address as: IPv4-mapped IPv6 is IPv4. */
export function modelAddress(address: Address): Address {
  if (address.kind === 6 && isIpv4Mapped(address.value)) return { kind: 4, value: address.value & LOW_32 };
  return address;
}

export function dotted(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
}

function groups(value: bigint): number[] {
  return Array.from({ length: 8 }, (_, index) => Number((value >> BigInt((7 - index) * 16)) & 0xffffn));
}

/** RFC 5952: lowercase, no leading zeros, the longest run (>= 2) of zero groups as ::, leftmost on ties. */
function rfc5952(parts: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < parts.length; start++) {
    let length = 0;
    while (start + length < parts.length && parts[start + length] === 0) length++;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = parts.map((part) => part.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The one text normalizeIp must produce. */
export function canonical(address: Address): string {
  const model = modelAddress(address);
  return model.kind === 4 ? dotted(model.value) : rfc5952(groups(model.value));
}

/** Every way to write the address (the last one is always the most exotic still-valid form). */
export function textForms(address: Address): string[] {
  if (address.kind === 4) {
    const text = dotted(address.value);
    const high = Number(address.value >> 16n).toString(16);
    const low = Number(address.value & 0xffffn).toString(16);
    return [text, `::ffff:${text}`, `::FFFF:${text}`, `0:0:0:0:0:ffff:${text}`, `::ffff:${high}:${low}`, `0000:0000::FFFF:${high}:${low}%eth0`];
  }
  const parts = groups(address.value);
  const compressed = rfc5952(parts);
  const full = parts.map((part) => part.toString(16).padStart(4, '0')).join(':');
  const dottedTail = `${parts.slice(0, 6).map((part) => part.toString(16)).join(':')}:${dotted(address.value & LOW_32)}`;
  // all-zero head: the IPv4-compatible form `::a.b.c.d` that ipaddr.js alone would misread as IPv4-mapped
  const shortDottedTail = parts.slice(0, 6).every((part) => part === 0) ? `::${dotted(address.value & LOW_32)}` : dottedTail.toUpperCase();
  return [compressed, full, full.toUpperCase(), dottedTail, shortDottedTail, `${compressed}%eth0`, `${full}%zone-1.a:b`];
}

export const ipv4Address: fc.Arbitrary<Address> = fc.oneof(
  fc.bigInt({ min: 0n, max: LOW_32 }),
  fc.constantFrom(0n, 0x7f000001n, 0x7fffffffn, 0xffffffffn, 0xcb007100n, 0x0a000001n),
).map((value) => ({ kind: 4 as const, value }));

const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }), fc.constant(0xffff));

export const ipv6Address: fc.Arbitrary<Address> = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  fc.array(group, { minLength: 8, maxLength: 8 }).map((parts) => parts.reduce((sum, part) => (sum << 16n) | BigInt(part), 0n)),
  fc.bigInt({ min: 0n, max: LOW_32 }).map((low) => MAPPED_PREFIX | low), // IPv4-mapped
  fc.bigInt({ min: 0n, max: LOW_32 }), // IPv4-compatible ::a.b.c.d (deprecated; IPv6, not IPv4)
  fc.constantFrom(0n, 1n, 0x7f000001n, (0xfe80n << 112n) | 1n, (0x20010db8n << 96n) | 1n),
).map((value) => ({ kind: 6 as const, value }));

const IP_CHARACTERS = '0123456789abcdefABCDEFxX:.%[]/- \t';

/** Text near IP literals (their characters) and far from them (any unicode, control characters). */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...IP_CHARACTERS), maxLength: 48 }),
  fc.string({ unit: 'binary', maxLength: 48 }),
  fc.string({ maxLength: 48 }),
  fc.tuple(fc.oneof(ipv4Address, ipv6Address), fc.string({ maxLength: 4 })).map(([address, noise]) => canonical(address) + noise),
);
