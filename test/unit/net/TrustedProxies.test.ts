import { describe, expect, it } from 'vitest';
import { TrustedProxies } from '../../../src/net/TrustedProxies.js';

describe('TrustedProxies', () => {
  const proxies = new TrustedProxies(['10.0.0.1', '192.168.1.0/24', '2001:db8:aa::/48', '::1', '::ffff:172.16.0.0/108']);

  it.each([
    ['10.0.0.1', true],
    ['10.0.0.2', false],
    ['192.168.1.0', true],
    ['192.168.1.255', true],
    ['192.168.2.1', false],
    ['::ffff:192.168.1.7', true], // IPv4-mapped IPv6 counts as IPv4
    ['::ffff:10.0.0.1', true],
    ['2001:db8:aa:ffff::1', true],
    ['2001:db8:ab::1', false],
    ['::1', true],
    ['127.0.0.1', false],
    ['172.16.3.4', true], // from the IPv4-mapped CIDR ::ffff:172.16.0.0/108 = 172.16.0.0/12
    ['172.32.0.1', false],
    ['not-an-ip', false],
    ['', false],
    ['0x0a.0.0.1', false], // legacy notations are not IP literals here
  ])('contains(%s) → %s', (ip, expected) => {
    expect(proxies.contains(ip)).toBe(expected);
  });

  it('is empty by default and then trusts nothing', () => {
    const none = new TrustedProxies([]);
    expect(none.size).toBe(0);
    expect(none.contains('127.0.0.1')).toBe(false);
  });

  it('refuses an entry that is not an IP or CIDR', () => {
    expect(() => new TrustedProxies(['10.0.0.300'])).toThrow();
    expect(() => new TrustedProxies(['10.0.0.0/33'])).toThrow();
  });
});
