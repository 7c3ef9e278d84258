// Property-based tests of client-IP resolution: IP literal parsing (IPv4, IPv6, IPv4-mapped, zone ids,
// garbage), CIDR matching and the X-Forwarded-For walk, each checked against a small reference model
// that works on the address as a number.
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIpOrCidr } from '../../src/config/formats.js';
import { resolveFromPeer } from '../../src/net/clientAddress.js';
import { normalizeIp, parseCidr } from '../../src/net/ip.js';
import { isLoopbackIp } from '../../src/net/loopback.js';
import { TrustedProxies } from '../../src/net/TrustedProxies.js';
import { rateLimitKey } from '../../src/ratelimit/clientKey.js';
import { anyText, canonical, ipv4Address, ipv6Address, isIpv4Mapped, modelAddress, textForms, type Address } from './ipModel.js';

const RUNS = { numRuns: 3_000 };

describe('IP literals', () => {
  it('every textual form of an address normalises to its one canonical text, without zone', () => {
    const anyAddress = fc.oneof(ipv4Address, ipv6Address);
    fc.assert(
      fc.property(anyAddress.chain((address) => fc.tuple(fc.constant(address), fc.constantFrom(...textForms(address)))), ([address, text]) => {
        expect(normalizeIp(text)).toBe(canonical(address));
      }),
      RUNS,
    );
  });

  it('anything else is refused, never thrown on, and what is accepted is a bounded, idempotent IP literal', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const normalized = normalizeIp(text);
        if (normalized === null) return;
        expect(isIP(text)).not.toBe(0); // strict: nothing node itself would not call an IP
        expect(normalized.length).toBeLessThanOrEqual(39);
        expect(normalized).not.toContain('%');
        expect(normalizeIp(normalized)).toBe(normalized);
      }),
      { numRuns: 10_000 },
    );
  });

  it.each(['0x7f.1', '127.1', '0177.0.0.1', '2130706433', '1.2.3', '1.2.3.4.5', '::ffff:1.2.3', 'fe80::1%', '[::1]', ' 1.2.3.4', ''])(
    'refuses the non-literal %j',
    (text) => expect(normalizeIp(text)).toBeNull(),
  );

  it('IPv4-compatible ::a.b.c.d stays IPv6 (it is not the mapped ::ffff:a.b.c.d), so ::127.0.0.1 is no loopback', () => {
    expect(normalizeIp('::127.0.0.1')).toBe('::7f00:1');
    expect(isLoopbackIp('::127.0.0.1')).toBe(false);
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(isLoopbackIp('::ffff:127.0.0.1')).toBe(true);
  });

  it('loopback is exactly 127.0.0.0/8 and ::1, in every textual form', () => {
    fc.assert(
      fc.property(
        fc.oneof(ipv4Address, ipv6Address, fc.constant<Address>({ kind: 4, value: 0x7f000001n }), fc.constant<Address>({ kind: 6, value: 1n })),
        (address) => {
          const model = modelAddress(address);
          const loopback = model.kind === 4 ? model.value >> 24n === 127n : model.value === 1n;
          for (const text of textForms(address)) expect(isLoopbackIp(text)).toBe(loopback);
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------

interface CidrCase {
  readonly text: string;
  /** In the address space it matches: IPv4 for IPv4 networks and IPv4-mapped ones of at least /96. */
  readonly kind: 4 | 6;
  readonly network: bigint;
  readonly bits: number;
}

const ipv4Cidr: fc.Arbitrary<CidrCase> = fc
  .tuple(ipv4Address, fc.integer({ min: 0, max: 32 }))
  .chain(([network, bits]) =>
    fc.constantFrom(
      { text: `${canonical(network)}/${bits}`, kind: 4 as const, network: network.value, bits },
      // the same network written IPv4-mapped: ::ffff:a.b.c.d/(96 + bits)
      { text: `::ffff:${canonical(network)}/${96 + bits}`, kind: 4 as const, network: network.value, bits },
    ),
  );

const ipv6Cidr: fc.Arbitrary<CidrCase> = fc
  .tuple(ipv6Address.filter((a) => !isIpv4Mapped(a.value)), fc.integer({ min: 0, max: 128 }))
  .chain(([network, bits]) =>
    fc.constantFrom(...textForms(network).map((form) => ({ text: `${form}/${bits}`, kind: 6 as const, network: network.value, bits }))),
  );

function inCidr(cidr: CidrCase, address: Address): boolean {
  const model = modelAddress(address);
  if (model.kind !== cidr.kind) return false;
  const width = BigInt(cidr.kind === 4 ? 32 : 128);
  const shift = width - BigInt(cidr.bits);
  return model.value >> shift === cidr.network >> shift;
}

/** An address inside the CIDR most of the time (same prefix, random host part), anywhere otherwise. */
function nearby(cidr: CidrCase): fc.Arbitrary<Address> {
  const width = cidr.kind === 4 ? 32 : 128;
  const hostBits = BigInt(width - cidr.bits);
  const inside = fc.bigInt({ min: 0n, max: (1n << BigInt(width)) - 1n }).map((random) => {
    const prefix = (cidr.network >> hostBits) << hostBits;
    const host = random & ((1n << hostBits) - 1n);
    return cidr.kind === 4 ? { kind: 4 as const, value: prefix | host } : { kind: 6 as const, value: prefix | host };
  });
  return fc.oneof({ weight: 3, arbitrary: inside }, { weight: 1, arbitrary: fc.oneof(ipv4Address, ipv6Address) });
}

describe('CIDR matching (gateway.trustedProxies)', () => {
  it('contains() agrees with prefix arithmetic, for every textual form of the address', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4Cidr, ipv6Cidr).chain((cidr) => fc.tuple(fc.constant(cidr), nearby(cidr))), ([cidr, address]) => {
        const proxies = new TrustedProxies([cidr.text]);
        const expected = inCidr(cidr, address);
        for (const text of textForms(address)) expect(proxies.contains(text)).toBe(expected);
      }),
      RUNS,
    );
  });

  it('a single address entry trusts exactly that address', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4Address, ipv6Address), fc.oneof(ipv4Address, ipv6Address), (trusted, other) => {
        const proxies = new TrustedProxies([textForms(trusted).at(-1)!]);
        expect(proxies.contains(canonical(trusted))).toBe(true);
        expect(proxies.contains(canonical(other))).toBe(canonical(other) === canonical(trusted));
      }),
      RUNS,
    );
  });

  it('garbage is never contained, even by ::/0 and 0.0.0.0/0', () => {
    const everything = new TrustedProxies(['0.0.0.0/0', '::/0']);
    fc.assert(
      fc.property(anyText, (text) => {
        expect(everything.contains(text)).toBe(normalizeIp(text) !== null);
      }),
      { numRuns: 5_000 },
    );
  });

  it('config validation accepts exactly what the gateway can load, and never throws', () => {
    const entry = fc.oneof(
      fc.oneof(ipv4Cidr, ipv6Cidr).map((cidr) => cidr.text),
      anyText,
      fc.tuple(anyText, fc.integer({ min: -5, max: 300 })).map(([text, bits]) => `${text}/${bits}`),
      fc.tuple(fc.oneof(ipv4Address, ipv6Address), fc.integer({ min: 0, max: 200 })).map(([a, bits]) => `${canonical(a)}/${bits}`),
      fc.constantFrom('10.0.0.0/8/8', '10.0.0.0/', '/8', '10.1/8', '0x0a.0.0.0/8', '10.0.0.0/+8', '10.0.0.0/0x8', 'fe80::1%eth0/64', '::ffff:10.0.0.0/95'),
    );
    fc.assert(
      fc.property(entry, (text) => {
        const valid = isIpOrCidr(text.trim()); // as assertCidrList and the TrustedProxies constructor both trim
        let loaded = true;
        try {
          new TrustedProxies([text]);
        } catch {
          loaded = false;
        }
        expect(loaded).toBe(valid);
        if (text.includes('/')) expect(parseCidr(text.trim()) !== null).toBe(valid);
      }),
      { numRuns: 5_000 },
    );
  });

  it.each([
    ['10.0.0.0/33', false],
    ['::/129', false],
    ['::ffff:10.0.0.0/129', false],
    ['10.1/8', false], // legacy short form: not an IP literal
    ['0x0a.0.0.0/8', false],
    ['fe80::1%eth0/64', true],
    ['::ffff:10.0.0.0/104', true],
  ])('parseCidr(%s) valid → %s', (text, valid) => expect(parseCidr(text) !== null).toBe(valid));
});

// ---------------------------------------------------------------------------------------------

const TRUSTED = ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::ffff:192.168.0.0/112'];
const proxies = new TrustedProxies(TRUSTED);
const trustedHop = fc.oneof(
  fc.integer({ min: 0, max: 0xffffff }).map((n) => ({ kind: 4 as const, value: 0x0a000000n | BigInt(n) })),
  fc.bigInt({ min: 0n, max: (1n << 120n) - 1n }).map((n) => ({ kind: 6 as const, value: (0xfdn << 120n) | n })),
  fc.integer({ min: 0, max: 0xffff }).map((n) => ({ kind: 4 as const, value: 0xc0a80000n | BigInt(n) })),
);

type Hop = { readonly text: string; readonly address: Address | null };

const hop: fc.Arbitrary<Hop> = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(trustedHop, ipv4Address, ipv6Address).chain(withHopForm) },
  {
    weight: 1,
    arbitrary: anyText.filter((text) => !text.includes(',') && !/\[|:\d+\s*$/.test(text)).map((text) => ({ text, address: null })),
  },
  { weight: 1, arbitrary: fc.constantFrom(' ', '', 'unknown', '_hidden', '1.2.3.4:abc', '[1.2.3.4]', '[::1', 'fe80::1%eth0:80').map((text) => ({ text, address: null })) },
);

function withHopForm(address: Address): fc.Arbitrary<Hop> {
  const forms = textForms(address).map((text) => (text.includes(':') ? [text, `[${text}]`, `[${text}]:443`] : [text, `${text}:8080`]));
  return fc.constantFrom(...forms.flat()).map((text) => ({ text: ` ${text} `, address }));
}

/** GATEWAY.md section 4, as a model: walk from the right over trusted hops; garbage ends the walk. */
function expectedClientIp(peer: Address, hops: readonly Hop[] | undefined): string {
  const peerIp = canonical(peer);
  if (!proxies.contains(peerIp) || hops === undefined) return peerIp;
  let vouched = peerIp;
  for (const { text, address } of [...hops].reverse()) {
    if (address === null) {
      if (text.trim() === '') continue;
      if (normalizeIp(text.trim()) === null) return vouched;
    }
    vouched = address ? canonical(address) : normalizeIp(text.trim())!;
    if (!proxies.contains(vouched)) return vouched;
  }
  return vouched;
}

describe('X-Forwarded-For walk', () => {
  const peer = fc.oneof(
    { weight: 3, arbitrary: fc.constant<Address>({ kind: 4, value: 0x7f000001n }) },
    { weight: 1, arbitrary: fc.oneof(trustedHop, ipv4Address, ipv6Address) },
  );

  it('the client IP is the first untrusted hop from the right (leftmost when all are trusted), as one header or repeated ones', () => {
    fc.assert(
      fc.property(peer, fc.option(fc.array(hop, { maxLength: 12 }), { nil: undefined }), fc.boolean(), (peerAddress, hops, repeated) => {
        const header = hops === undefined ? undefined : repeated ? hops.map((h) => h.text) : hops.map((h) => h.text).join(',');
        const address = resolveFromPeer(canonical(peerAddress), header, proxies);
        expect(address.clientIp).toBe(expectedClientIp(peerAddress, hops));
        expect(address.peerIsTrustedProxy).toBe(proxies.contains(canonical(peerAddress)));
        // whatever the header holds, the client IP is a short canonical literal (it keys caps and logs)
        expect(normalizeIp(address.clientIp)).toBe(address.clientIp);
      }),
      { numRuns: 5_000 },
    );
  });

  it('a header from an untrusted peer never changes anything', () => {
    const untrustedPeer = fc.oneof(ipv4Address, ipv6Address).filter((a) => !proxies.contains(canonical(a)));
    fc.assert(
      fc.property(untrustedPeer, fc.array(hop, { maxLength: 12 }), (peerAddress, hops) => {
        const header = hops.map((h) => h.text).join(',');
        expect(resolveFromPeer(canonical(peerAddress), header, proxies).clientIp).toBe(canonical(peerAddress));
      }),
      RUNS,
    );
  });

  it('survives a header of 10,000 hops in linear time', () => {
    const header = Array.from({ length: 10_000 }, (_, index) => `10.0.${index >> 8 & 255}.${index & 255}`).join(', ');
    const started = performance.now();
    expect(resolveFromPeer('127.0.0.1', `203.0.113.7, ${header}`, proxies).clientIp).toBe('203.0.113.7');
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('rate-limit key of a client IP', () => {
  it('IPv4 per address (mapped included); IPv6 per /64, whatever the textual form or zone', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4Address, ipv6Address), fc.oneof(ipv4Address, ipv6Address), (a, b) => {
        const keyOf = (address: Address) => rateLimitKey(normalizeIp(textForms(address).at(-1)!)!);
        const modelA = modelAddress(a);
        const modelB = modelAddress(b);
        const sameBucket =
          modelA.kind === modelB.kind && (modelA.kind === 4 ? modelA.value === modelB.value : modelA.value >> 64n === modelB.value >> 64n);
        expect(keyOf(a) === keyOf(b)).toBe(sameBucket);
        expect(keyOf(a).length).toBeLessThanOrEqual(64); // the limiter drops longer keys from the bus
      }),
      RUNS,
    );
  });
});
