import { describe, expect, it } from 'vitest';
import { FORWARDING_HEADERS, hasForwardingHeaders, isLoopbackHost, isLoopbackIp } from '../../../src/net/loopback.js';

describe('isLoopbackIp', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['::2', false],
    ['0:0:0:0:0:0:0:1', true],
    ['localhost', false],
    ['unknown', false],
  ])('%s → %s', (ip, expected) => expect(isLoopbackIp(ip)).toBe(expected));
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST:18789', true],
    ['127.0.0.1', true],
    ['127.0.0.1:1', true],
    ['[::1]', true],
    ['[::1]:18789', true],
    ['::1', true],
    ['127.0.0.2', false],
    ['localhost.evil.com', false],
    ['evil.com', false],
    ['localhost:', false],
    ['localhost:abc', false],
    ['[::2]:80', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (host, expected) => expect(isLoopbackHost(host)).toBe(expected));
});

describe('hasForwardingHeaders', () => {
  it('is false without any of them', () => {
    expect(hasForwardingHeaders({ host: 'localhost', 'user-agent': 'x' })).toBe(false);
  });

  it.each(FORWARDING_HEADERS.map((name) => [name]))('is true with %s, even empty', (name) => {
    expect(hasForwardingHeaders({ host: 'localhost', [name]: '' })).toBe(true);
  });

  it('names exactly the documented headers', () => {
    expect([...FORWARDING_HEADERS].sort()).toEqual(
      ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip'].sort(),
    );
  });
});
