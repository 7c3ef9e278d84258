import { describe, expect, it } from 'vitest';
import { rateLimitKey } from '../../../src/ratelimit/clientKey.js';

describe('rateLimitKey', () => {
  it('keys IPv4 per address', () => {
    expect(rateLimitKey('203.0.113.7')).toBe('203.0.113.7');
    expect(rateLimitKey('203.0.113.8')).not.toBe(rateLimitKey('203.0.113.7'));
  });

  it('keys IPv6 per /64', () => {
    expect(rateLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateLimitKey('2001:db8::2')).toBe(rateLimitKey('2001:db8::1'));
    expect(rateLimitKey('2001:db8:0:0:ffff:ffff:ffff:ffff')).toBe(rateLimitKey('2001:db8::1'));
    expect(rateLimitKey('2001:db8:0:1::1')).not.toBe(rateLimitKey('2001:db8::1'));
  });

  it('treats IPv4-mapped IPv6 as IPv4', () => {
    expect(rateLimitKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('passes anything else through', () => {
    expect(rateLimitKey('unknown')).toBe('unknown');
  });
});
