import { describe, expect, it } from 'vitest';
import { BlockList } from '../../../src/ratelimit/BlockList.js';

describe('BlockList', () => {
  it('blocks until the given time, then forgets', () => {
    let now = 1_000;
    const list = new BlockList(10, () => now);
    list.block('a', 6_000);
    expect(list.remainingMs('a')).toBe(5_000);
    expect(list.remainingMs('b')).toBe(0);
    now = 6_000;
    expect(list.remainingMs('a')).toBe(0);
    expect(list.size).toBe(0);
  });

  it('keeps the later of two blocks and ignores blocks already over', () => {
    let now = 0;
    const list = new BlockList(10, () => now);
    list.block('a', 500);
    list.block('a', 300);
    expect(list.remainingMs('a')).toBe(500);
    list.block('b', 0);
    expect(list.size).toBe(1);
    now = 1;
    expect(list.remainingMs('a')).toBe(499);
  });

  it('stays bounded', () => {
    const now = 0;
    const list = new BlockList(3, () => now);
    for (let i = 0; i < 10; i++) list.block(`k${i}`, 1_000 + i);
    expect(list.size).toBe(3);
    expect(list.remainingMs('k9')).toBeGreaterThan(0);
  });

  it('lets one refusal per block be logged', () => {
    const list = new BlockList(10, () => 0);
    expect(list.claimRefusalLog('a')).toBe(false);
    list.block('a', 100);
    expect(list.claimRefusalLog('a')).toBe(true);
    expect(list.claimRefusalLog('a')).toBe(false);
  });
});
