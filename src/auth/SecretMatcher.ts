import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * One configured secret, compared in constant time: both sides are hashed to equal-length digests, so
 * neither the content nor the length of the configured secret leaks through timing.
 */
export class SecretMatcher {
  private readonly expected: Buffer | null;

  constructor(secret: string) {
    this.expected = secret === '' ? null : digest(secret);
  }

  get configured(): boolean {
    return this.expected !== null;
  }

  matches(presented: string | undefined): boolean {
    if (this.expected === null || presented === undefined) return false;
    return timingSafeEqual(digest(presented), this.expected);
  }
}
