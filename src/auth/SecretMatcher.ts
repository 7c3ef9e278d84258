import { hash, timingSafeEqual } from 'node:crypto';
import type { AuthContext } from './types.js';

/**
 * SHA-256 of a presented secret, as hex: a device token's lookup hash, also compared by
 * SecretMatcher.matchesDigest. One-shot and straight to hex: on Node 20 a Buffer result costs about four
 * times as much (a fresh backing store per call), and the lookup needs the hex anyway.
 */
export function secretDigest(value: string): string {
  return hash('sha256', value, 'hex');
}

const DIGEST_HEX_LENGTH = 64;

/**
 * The presented secret's digest, hashed once per request however many methods compare it, and once per
 * connection while its client presents the same secret (socketDigestMemo).
 */
export function presentedDigest(context: AuthContext): string | undefined {
  const { secret } = context;
  if (secret === undefined) return undefined;
  if (context.secretDigestMemo !== undefined) return context.secretDigestMemo;
  const digest = secretDigest(secret);
  context.secretDigestMemo = digest;
  const memo = context.socketDigest;
  if (memo !== undefined) {
    memo.secret = secret;
    memo.digest = digest;
  }
  return digest;
}

/**
 * One configured secret, compared in constant time. The presented secret's bytes are compared with
 * timingSafeEqual when they are as long as the configured secret; a presented secret of any other length
 * costs the same comparison (the configured secret against itself) and fails. The work done depends on the
 * presented secret's length (the client's own input) and never on the configured secret's content; the
 * same comparison either way means its length does not show either. No hashing on this path: a SHA-256
 * cost more than the rest of a bearer request's authentication. A caller that already holds
 * secretDigest(presented) (the device-token method) compares digests instead.
 */
export class SecretMatcher {
  private readonly expected: Buffer | null;
  private readonly expectedDigest: Buffer | null;
  /** Reused for each presented secret of the configured length (JavaScript runs one compare at a time). */
  private readonly candidate: Buffer;
  private readonly digestCandidate = Buffer.alloc(DIGEST_HEX_LENGTH);

  constructor(secret: string) {
    this.expected = secret === '' ? null : Buffer.from(secret, 'utf8');
    this.expectedDigest = secret === '' ? null : Buffer.from(secretDigest(secret), 'latin1');
    this.candidate = Buffer.alloc(this.expected?.length ?? 0);
  }

  get configured(): boolean {
    return this.expected !== null;
  }

  matches(presented: string | undefined): boolean {
    const { expected, candidate } = this;
    if (expected === null || presented === undefined) return false;
    if (Buffer.byteLength(presented, 'utf8') !== expected.length) {
      timingSafeEqual(expected, expected);
      return false;
    }
    candidate.write(presented, 0, 'utf8');
    const equal = timingSafeEqual(candidate, expected);
    candidate.fill(0); // no copy of a presented secret stays behind
    return equal;
  }

  /** Same as matches(), for a caller that already holds secretDigest(presented): 64 hex digits, compared in constant time. */
  matchesDigest(presentedDigest: string): boolean {
    const { expectedDigest, digestCandidate } = this;
    if (expectedDigest === null || presentedDigest.length !== DIGEST_HEX_LENGTH) return false;
    digestCandidate.write(presentedDigest, 0, DIGEST_HEX_LENGTH, 'latin1');
    return timingSafeEqual(digestCandidate, expectedDigest);
  }
}
