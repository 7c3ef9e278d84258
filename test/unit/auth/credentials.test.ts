import { describe, expect, it } from 'vitest';
import { hasQuerySecret, pathOf, secretFromHeaders } from '../../../src/auth/credentials.js';
import { SecretMatcher, secretDigest } from '../../../src/auth/SecretMatcher.js';

describe('secretFromHeaders', () => {
  it.each([
    [{ authorization: 'Bearer abc' }, 'abc'],
    [{ authorization: 'bearer abc' }, 'abc'], // the scheme is case-insensitive
    [{ authorization: 'Bearer  abc ' }, ' abc '], // the secret is never trimmed
    [{ authorization: 'Bearer ' }, undefined],
    [{ authorization: 'Basic dXNlcjpwdw==' }, undefined],
    [{ authorization: 'Bearerabc' }, undefined],
    [{ 'x-openclaw-token': 'xyz' }, 'xyz'],
    [{ 'x-openclaw-token': ' xyz' }, ' xyz'],
    [{ 'x-openclaw-token': '' }, undefined],
    [{ authorization: 'Bearer abc', 'x-openclaw-token': 'xyz' }, 'abc'], // Authorization first
    [{ authorization: 'Basic x', 'x-openclaw-token': 'xyz' }, 'xyz'],
    [{}, undefined],
  ])('%j → %j', (headers, expected) => {
    expect(secretFromHeaders(headers)).toBe(expected);
  });
});

describe('hasQuerySecret', () => {
  it.each([
    ['/v1/models?token=abc', true],
    ['/v1/models?a=1&token=', true],
    ['/v1/models?token', true],
    ['/v1/models?tokens=1', false],
    ['/v1/models?x=token', false],
    ['/v1/models', false],
    ['/v1/token', false],
    [undefined, false],
  ])('%s → %s', (url, expected) => expect(hasQuerySecret(url)).toBe(expected));
});

describe('pathOf', () => {
  it('drops the query string so it never reaches a log line', () => {
    expect(pathOf('/v1/models?token=secret')).toBe('/v1/models');
    expect(pathOf('/v1/models')).toBe('/v1/models');
    expect(pathOf(undefined)).toBe('/');
  });
});

describe('SecretMatcher', () => {
  it('matches exactly, with no trimming and no prefix matches', () => {
    const matcher = new SecretMatcher('s3cret');
    expect(matcher.matches('s3cret')).toBe(true);
    expect(matcher.matches('s3cret ')).toBe(false);
    expect(matcher.matches(' s3cret')).toBe(false);
    expect(matcher.matches('s3cre')).toBe(false);
    expect(matcher.matches('S3CRET')).toBe(false);
    expect(matcher.matches(undefined)).toBe(false);
  });

  it('compares bytes, not characters, and lets no length through', () => {
    const matcher = new SecretMatcher('pässwörd'); // 10 bytes in UTF-8, 8 characters
    expect(matcher.matches('pässwörd')).toBe(true);
    expect(matcher.matches('passwoerd')).toBe(false); // 9 bytes
    expect(matcher.matches('pässwörD')).toBe(false); // same length, one byte differs
    expect(matcher.matches('paesswoerd')).toBe(false); // 10 bytes, other content
    expect(matcher.matches('pässwörd'.repeat(200))).toBe(false);
    expect(matcher.matches('')).toBe(false);
    // the scratch buffer is wiped: a later, shorter-by-content candidate cannot ride on an earlier one
    expect(matcher.matches('pässwörd')).toBe(true);
    expect(matcher.matches('\u0000'.repeat(10))).toBe(false);
  });

  it('matches a precomputed digest of the same secret only', () => {
    const matcher = new SecretMatcher('s3cret');
    expect(matcher.matchesDigest(secretDigest('s3cret'))).toBe(true);
    expect(matcher.matchesDigest(secretDigest('s3cret '))).toBe(false);
    expect(new SecretMatcher('').matchesDigest(secretDigest(''))).toBe(false);
  });

  it('matches nothing when not configured', () => {
    const matcher = new SecretMatcher('');
    expect(matcher.configured).toBe(false);
    expect(matcher.matches('')).toBe(false);
    expect(matcher.matches('anything')).toBe(false);
  });
});
