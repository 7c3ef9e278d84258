import { pino } from 'pino';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { describe, expect, it } from 'vitest';
import { LocalBus } from '../../../src/cluster/LocalBus.js';
import { FailedAuthLimiter, retryAfterSeconds } from '../../../src/ratelimit/FailedAuthLimiter.js';

const logger = pino({ level: 'silent' });

function limiter(bus = new LocalBus('r1'), maxFailures = 3, windowSeconds = 60) {
  const counter = new RateLimiterMemory({ points: maxFailures, duration: windowSeconds });
  const instance = new FailedAuthLimiter({ maxFailures, windowSeconds, counter, bus, logger });
  instance.start();
  return instance;
}

describe('FailedAuthLimiter', () => {
  it('counts failures up to the limit, blocks at the last allowed one, and is over the limit after', async () => {
    const subject = limiter();
    expect(await subject.recordFailure('k')).toMatchObject({ kind: 'counted', failures: 1, blocked: false });
    expect(subject.blockedForMs('k')).toBe(0);
    expect(await subject.recordFailure('k')).toMatchObject({ kind: 'counted', failures: 2, blocked: false });
    const third = await subject.recordFailure('k');
    expect(third).toMatchObject({ kind: 'counted', failures: 3, blocked: true });
    expect(subject.blockedForMs('k')).toBeGreaterThan(59_000);
    expect(subject.blockedForMs('other')).toBe(0);
    const fourth = await subject.recordFailure('k');
    expect(fourth.kind).toBe('over_limit');
  });

  it('publishes the block on the bus, and accepts blocks from other replicas (capped to one window)', async () => {
    const bus = new LocalBus('r1');
    const seen: unknown[] = [];
    bus.subscribe('auth.blocked', ({ payload }) => seen.push(payload));
    const first = limiter(bus, 1);
    await first.recordFailure('k');
    expect(seen).toEqual([{ key: 'k', untilMs: expect.any(Number) }]);

    const other = limiter(new LocalBus('r2'), 1, 10);
    const otherBus = new LocalBus('r3');
    const third = limiter(otherBus, 1, 10);
    await otherBus.publish('auth.blocked', { key: 'x', untilMs: Date.now() + 3_600_000 });
    expect(third.blockedForMs('x')).toBeGreaterThan(9_000);
    expect(third.blockedForMs('x')).toBeLessThanOrEqual(10_000);
    await otherBus.publish('auth.blocked', { key: 42, untilMs: 'soon' });
    expect(other.blockedForMs('x')).toBe(0);
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1_000)).toBe(1);
    expect(retryAfterSeconds(1_001)).toBe(2);
    expect(retryAfterSeconds(59_400)).toBe(60);
  });
});
