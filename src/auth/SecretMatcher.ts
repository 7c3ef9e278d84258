import { hash, timingSafeEqual } from 'node:crypto';
import type { AuthContext } from './types.js';

/** SHA-256 of a presented secret: a device token's lookup hash (as hex), also compared by SecretMatcher.matchesDigest. */
export function secretDigest(value: string): Buffer {
  return hash('sha256', value, 'buffer'); // one-shot: about half the cost of createHash() on the hot path
}

/** The presented secret's digest, hashed once per request however many methods compare it. */
export function presentedDigest(context: AuthContext): Buffer | undefined {
  if (context.secret === undefined) return undefined;
  return (context.secretDigestMemo ??= secretDigest(context.secret));
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

  constructor(secret: string) {
    this.expected = secret === '' ? null : Buffer.from(secret, 'utf8');
    this.expectedDigest = secret === '' ? null : secretDigest(secret);
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

  /** Same as matches(), for a caller that already holds secretDigest(presented). */
  matchesDigest(presentedDigest: Buffer): boolean {
    if (this.expectedDigest === null) return false;
    return timingSafeEqual(presentedDigest, this.expectedDigest);
  }
}
