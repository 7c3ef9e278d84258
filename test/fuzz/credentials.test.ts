// Property-based tests of the credential parsers: Authorization / X-OpenClaw-Token (the presented
// secret, never trimmed) and the ?token= refusal.
import type { IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasQuerySecret, pathOf, secretFromHeaders } from '../../src/auth/credentials.js';

/** Characters an HTTP header value may carry (node rejects CR, LF and NUL before we see them). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 80 });
const secret = headerValue.filter((value) => value.length > 0);
const bearerScheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR');
const otherAuthorization = fc.oneof(
  headerValue.filter((value) => !/^bearer /i.test(value)),
  fc.constantFrom('Basic dXNlcjpwYXNz', 'Bearer', 'Bearer\tabc', 'Token abc', 'Bearer '),
);
const anyHeaderShape: fc.Arbitrary<string | string[] | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.array(fc.string({ unit: 'binary', maxLength: 16 }), { maxLength: 3 }),
);

describe('secretFromHeaders', () => {
  it('Authorization: Bearer <secret> yields the secret byte for byte (scheme case-insensitive, nothing trimmed)', () => {
    fc.assert(
      fc.property(bearerScheme, secret, fc.option(secret, { nil: undefined }), (scheme, presented, customHeader) => {
        const headers: IncomingHttpHeaders = { authorization: `${scheme} ${presented}` };
        if (customHeader !== undefined) headers['x-openclaw-token'] = customHeader;
        expect(secretFromHeaders(headers)).toBe(presented);
      }),
      { numRuns: 5_000 },
    );
  });

  it('X-OpenClaw-Token counts only when Authorization carries no bearer secret; the first of repeated values wins', () => {
    fc.assert(
      fc.property(fc.option(otherAuthorization, { nil: undefined }), fc.oneof(headerValue, fc.array(headerValue, { minLength: 1, maxLength: 3 })), (authorization, custom) => {
        const headers: IncomingHttpHeaders = { 'x-openclaw-token': custom };
        if (authorization !== undefined) headers.authorization = authorization;
        const first = Array.isArray(custom) ? custom[0]! : custom;
        expect(secretFromHeaders(headers)).toBe(first === '' ? undefined : first);
      }),
      { numRuns: 5_000 },
    );
  });

  it('never throws on any header shape, and what it returns was sent verbatim', () => {
    fc.assert(
      fc.property(anyHeaderShape, anyHeaderShape, (authorization, custom) => {
        const headers = { authorization, 'x-openclaw-token': custom } as IncomingHttpHeaders;
        const found = secretFromHeaders(headers);
        if (found === undefined) return;
        expect(found.length).toBeGreaterThan(0);
        const sent = [authorization, custom].flat().filter((value): value is string => typeof value === 'string');
        expect(sent.some((value) => value === found || value.endsWith(` ${found}`))).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('?token= in the URL', () => {
  const path = fc.constantFrom('/', '/v1/models', '/v1/chat/completions', '/hooks/x');
  const param = fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }));

  it('is found however the key is encoded and wherever it sits among other parameters', () => {
    const tokenKey = fc.constantFrom('token', '%74oken', 't%6Fken', '%74%6F%6B%65%6E');
    fc.assert(
      fc.property(path, fc.array(param, { maxLength: 4 }), fc.nat({ max: 4 }), tokenKey, fc.string({ maxLength: 20 }), (base, params, at, key, value) => {
        const parts = params.map(([k, v]) => `${encodeURIComponent(k === 'token' ? 'x' : k)}=${encodeURIComponent(v)}`);
        parts.splice(Math.min(at, parts.length), 0, `${key}=${encodeURIComponent(value)}`);
        const url = `${base}?${parts.join('&')}`;
        expect(hasQuerySecret(url)).toBe(true);
        expect(pathOf(url)).toBe(base); // the logged path never carries the query
      }),
      { numRuns: 3_000 },
    );
  });

  it('never throws, and is false without a token parameter', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (url) => {
        const found = hasQuerySecret(url);
        const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
        expect(found).toBe(new URLSearchParams(query).has('token') && url.includes('?'));
      }),
      { numRuns: 5_000 },
    );
  });
});
