// Client addresses for X-Forwarded-For (documentation ranges only: 203.0.113.0/24, 2001:db8::/32; never contacted).

/** The address of a success-path client: one fixed client behind the trusted proxy. */
export const CLIENT_IP = '203.0.113.10';

/**
 * Failed-auth sources for the 401 path: each address is used exactly `usesPerAddress` times (below the 20
 * failures that would block it), in blocks of `blockSize` addresses used round-robin, so the limiter counts
 * against live keys without ever blocking one. 203.0.113.1–127 first, then one IPv6 /64 per address (the
 * limiter counts IPv6 per /64).
 */
export function failingSources({ usesPerAddress = 10, blockSize = 500 } = {}, offset = 0) {
  let n = offset;
  return () => {
    const block = Math.floor(n / (blockSize * usesPerAddress));
    const id = block * blockSize + (n % blockSize);
    n += 1;
    return id < 127 ? `203.0.113.${id + 1}` : `2001:db8:${hex(id >> 16)}:${hex(id & 0xffff)}::1`;
  };
}

/** Sources to pre-block for the 429 path: 203.0.113.128–(128+v4) and distinct /64s in 2001:db8:ffff::/48. */
export function blockedSources(count) {
  const v4 = Math.min(Math.ceil(count / 2), 126);
  const sources = [];
  for (let i = 0; i < v4; i++) sources.push(`203.0.113.${128 + i}`);
  for (let i = 0; sources.length < count; i++) sources.push(`2001:db8:ffff:${hex(i)}::1`);
  return sources;
}

/**
 * X-Forwarded-For values described as data, so that a client process can rebuild the sequence where the
 * last run stopped (`offset`: how many values earlier runs took): `{ kind: 'failing', usesPerAddress }`
 * (failingSources) or `{ kind: 'cycle', addresses }` (round-robin over a list).
 */
export function rotatingSources({ kind, offset = 0, ...options }) {
  if (kind === 'failing') return failingSources(options, offset);
  if (kind === 'cycle') {
    let i = offset;
    return () => options.addresses[i++ % options.addresses.length];
  }
  throw new Error(`unknown X-Forwarded-For rotation "${kind}"`);
}

/** Loopback source addresses for WebSocket clients (127.0.0.2 …), so no one address runs out of ports. */
export function loopbackSources(count) {
  return Array.from({ length: count }, (_, i) => `127.0.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}`);
}

function hex(value) {
  return value.toString(16);
}
