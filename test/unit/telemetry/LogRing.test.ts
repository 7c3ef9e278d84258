import { describe, expect, it } from 'vitest';
import { LOG_RING_LIMITS, LogRing } from '../../../src/telemetry/LogRing.js';

const line = (i: number, length = 20) => `{"n":${i}}`.padEnd(length, ' ');

describe('LogRing', () => {
  it('keeps the newest lines up to its capacity, oldest first', () => {
    const ring = new LogRing(3);
    for (let i = 1; i <= 5; i++) ring.push(line(i));
    expect(ring.tail(10)).toEqual([line(3), line(4), line(5)]);
    expect(ring.tail(2)).toEqual([line(4), line(5)]);
    expect(ring.tail(0)).toEqual([]);
    expect(ring.size).toBe(3);
  });

  it('drops the oldest lines past its total length, but never below minLines', () => {
    // capacity 100, lines cut at 1,000, total 2,500, at least 2 lines
    const ring = new LogRing(100, 1_000, 4, 2_500, 2);
    for (let i = 0; i < 10; i++) ring.push(line(i, 100));
    expect(ring.size).toBe(10);
    ring.push(line(10, 2_000)); // cut to 1,000: 2,000 held
    expect(ring.tail(1)).toEqual([line(10, 1_000)]);
    expect(ring.size).toBe(11);
    ring.push(line(11, 1_000)); // 3,000 held: the five oldest lines go
    expect(ring.size).toBe(7);
    expect(ring.tail(1)).toEqual([line(11, 1_000)]);
    ring.push(line(12, 1_000)); // 3,500: everything but the newest two would have to go; two stay
    expect(ring.tail(100)).toEqual([line(11, 1_000), line(12, 1_000)]);
  });

  it('stays bounded over many lines and keeps at least the last 1,000 by default', () => {
    const ring = new LogRing();
    const long = 'x'.repeat(LOG_RING_LIMITS.maxLineLength * 2);
    for (let i = 0; i < 5_000; i++) ring.push(i % 2 === 0 ? long : line(i));
    expect(ring.size).toBeGreaterThanOrEqual(LOG_RING_LIMITS.minLines);
    expect(ring.size).toBeLessThanOrEqual(LOG_RING_LIMITS.maxLines);
    const held = ring.tail(LOG_RING_LIMITS.maxLines).reduce((sum, l) => sum + l.length, 0);
    expect(held).toBeLessThanOrEqual(Math.max(LOG_RING_LIMITS.maxTotalLength, LOG_RING_LIMITS.minLines * LOG_RING_LIMITS.maxLineLength));
    expect(ring.tail(1)).toEqual([line(4_999)]);
  });

  it('feeds followers and refuses more than maxFollowers', () => {
    const ring = new LogRing(10, 100, 1);
    const seen: string[] = [];
    const stop = ring.follow((l) => seen.push(l));
    expect(ring.follow(() => {})).toBeNull();
    ring.push('a');
    stop!();
    ring.push('b');
    expect(seen).toEqual(['a']);
  });
});
