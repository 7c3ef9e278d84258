import { hash, timingSafeEqual } from 'node:crypto';
import type { AuthContext } from './types.js';

/** SHA-256 of a presented secret: what SecretMatcher compares, and (as hex) a device token's lookup hash. */
export function secretDigest(value: string): Buffer {
  return hash('sha256', value, 'buffer'); // one-shot: about half the cost of createHash() on the hot path
}

/** The presented secret's digest, hashed once per request however many methods compare it. */
export function presentedDigest(context: AuthContext): Buffer | undefined {
  if (context.secret === undefined) return undefined;
  return (context.secretDigestMemo ??= secretDigest(context.secret));
}

/**
 * One configured secret, compared in constant time: both sides are hashed to equal-length digests, so
 * neither the content nor the length of the configured secret leaks through timing.
 */
export class SecretMatcher {
  private readonly expected: Buffer | null;

  constructor(secret: string) {
    this.expected = secret === '' ? null : secretDigest(secret);
  }

  get configured(): boolean {
    return this.expected !== null;
  }

  matches(presented: string | undefined): boolean {
    if (this.expected === null || presented === undefined) return false;
    return timingSafeEqual(secretDigest(presented), this.expected);
  }

  /** Same as matches(), for a caller that already holds secretDigest(presented). */
  matchesDigest(presentedDigest: Buffer): boolean {
    if (this.expected === null) return false;
    return timingSafeEqual(presentedDigest, this.expected);
  }
}
