import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveClientAddress, resolveFromPeer, UNKNOWN_PEER } from '../../../src/net/clientAddress.js';
import { normalizeIp } from '../../../src/net/ip.js';
import { TrustedProxies } from '../../../src/net/TrustedProxies.js';

const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

function raw(remoteAddress: string | undefined, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress }, headers } as unknown as IncomingMessage;
}

describe('resolveClientAddress', () => {
  it.each([
    // [peer, X-Forwarded-For, expected client IP, peer trusted]
    ['203.0.113.9', undefined, '203.0.113.9', false],
    ['203.0.113.9', '198.51.100.1', '203.0.113.9', false], // untrusted peer: header ignored
    ['127.0.0.1', undefined, '127.0.0.1', true],
    ['127.0.0.1', '203.0.113.5', '203.0.113.5', true],
    ['127.0.0.1', '198.51.100.1, 203.0.113.5', '203.0.113.5', true], // rightmost untrusted, not the spoofable leftmost
    ['127.0.0.1', '198.51.100.1, 203.0.113.5, 10.1.2.3', '203.0.113.5', true], // trusted hops skipped
    ['127.0.0.1', '10.0.0.9, 10.1.2.3', '10.0.0.9', true], // all trusted: leftmost
    ['127.0.0.1', '::ffff:203.0.113.7', '203.0.113.7', true], // mapped → IPv4
    ['127.0.0.1', '2001:DB8:0:0::1', '2001:db8::1', true], // IPv6 canonical
    ['127.0.0.1', '[2001:db8::2]:4711', '2001:db8::2', true],
    ['127.0.0.1', '203.0.113.8:4711', '203.0.113.8', true],
    ['127.0.0.1', 'fd00::1, 2001:db8::3', '2001:db8::3', true],
    ['127.0.0.1', 'garbage', '127.0.0.1', true], // garbage: stop at the last vouched address
    ['127.0.0.1', '203.0.113.1, garbage, 10.0.0.1', '10.0.0.1', true],
    ['127.0.0.1', '203.0.113.1,,  ,10.0.0.1', '203.0.113.1', true], // empty elements skipped
    ['127.0.0.1', '', '127.0.0.1', true],
    ['::ffff:127.0.0.1', '203.0.113.5', '203.0.113.5', true], // mapped peer is the IPv4 proxy
  ])('peer %s, XFF %s → %s', (peer, xff, clientIp, trusted) => {
    const headers: Record<string, string> = xff === undefined ? {} : { 'x-forwarded-for': xff };
    const address = resolveClientAddress(raw(peer, headers), proxies);
    expect(address).toEqual({ peerIp: normalizeIp(peer), clientIp, peerIsTrustedProxy: trusted });
  });

  it('uses a stable placeholder when the socket has no address', () => {
    expect(resolveClientAddress(raw(undefined), proxies)).toEqual({
      peerIp: UNKNOWN_PEER,
      clientIp: UNKNOWN_PEER,
      peerIsTrustedProxy: false,
    });
  });

  it('answers again per request on one keep-alive socket when the header or the trusted proxies change', () => {
    const socket = { remoteAddress: '127.0.0.1' };
    const on = (headers: Record<string, string | string[]>) => ({ socket, headers }) as unknown as IncomingMessage;
    expect(resolveClientAddress(on({ 'x-forwarded-for': '203.0.113.5' }), proxies).clientIp).toBe('203.0.113.5');
    expect(resolveClientAddress(on({ 'x-forwarded-for': '203.0.113.5' }), proxies).clientIp).toBe('203.0.113.5');
    expect(resolveClientAddress(on({ 'x-forwarded-for': '203.0.113.6' }), proxies).clientIp).toBe('203.0.113.6');
    expect(resolveClientAddress(on({}), proxies).clientIp).toBe('127.0.0.1');
    expect(resolveClientAddress(on({ 'x-forwarded-for': ['198.51.100.1', '203.0.113.7'] }), proxies).clientIp).toBe('203.0.113.7');
    expect(resolveClientAddress(on({ 'x-forwarded-for': ['198.51.100.1', '203.0.113.8'] }), proxies).clientIp).toBe('203.0.113.8');
    const untrusting = new TrustedProxies([]);
    expect(resolveClientAddress(on({ 'x-forwarded-for': '203.0.113.8' }), untrusting)).toEqual({
      peerIp: '127.0.0.1',
      clientIp: '127.0.0.1',
      peerIsTrustedProxy: false,
    });
  });

  it('accepts repeated X-Forwarded-For headers as one list', () => {
    expect(resolveFromPeer('127.0.0.1', ['198.51.100.1', '203.0.113.5'], proxies).clientIp).toBe('203.0.113.5');
  });
});

describe('resolveFromPeer properties', () => {
  const ipv4 = fc.ipV4().map(String);
  const ipv6 = fc.ipV6().map(String);
  const hop = fc.oneof(ipv4, ipv6, fc.constantFrom('10.1.1.1', 'fd00::5', '127.0.0.1'), fc.string({ maxLength: 20 }));
  const peer = fc.oneof(ipv4, ipv6, fc.constantFrom('127.0.0.1', '10.9.9.9', 'fd00::1'));
  const xff = fc.array(hop, { maxLength: 8 }).map((hops) => hops.join(', '));

  it('never throws and answers the peer or one of the X-Forwarded-For entries', () => {
    fc.assert(
      fc.property(peer, fc.option(xff, { nil: undefined }), (peerIp, forwardedFor) => {
        const normalizedPeer = normalizeIp(peerIp) ?? peerIp;
        const { clientIp } = resolveFromPeer(normalizedPeer, forwardedFor, proxies);
        const entries = (forwardedFor ?? '').split(',').map((entry) => normalizeIp(entry.trim().replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1')));
        expect(clientIp === normalizedPeer || entries.includes(clientIp)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores every header from an untrusted peer', () => {
    fc.assert(
      fc.property(ipv4.filter((ip) => !proxies.contains(ip)), xff, (peerIp, forwardedFor) => {
        expect(resolveFromPeer(peerIp, forwardedFor, proxies).clientIp).toBe(peerIp);
      }),
    );
  });

  it('is never a trusted proxy when an untrusted hop exists to vouch for', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(ipv4, fc.constantFrom('10.0.0.1', '10.2.3.4')), { minLength: 1, maxLength: 6 }), (hops) => {
        const { clientIp } = resolveFromPeer('127.0.0.1', hops.join(','), proxies);
        if (hops.some((h) => !proxies.contains(h))) {
          expect(proxies.contains(clientIp)).toBe(false);
          const lastUntrusted = [...hops].reverse().find((h) => !proxies.contains(h));
          expect(clientIp).toBe(lastUntrusted);
        }
      }),
    );
  });
});
