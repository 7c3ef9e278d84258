// The paired measurement's rule for a box that changes speed inside a pair (bench/lib/httpLoad.mjs measurePair),
// with scripted runs instead of autocannon: which attempt counts, how often a pair is measured again.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/gateway.js';

interface Side {
  name: string;
  timing: { warmupSeconds: number; runSeconds: number };
}
interface Measured {
  rps: number;
  runs: number[];
  expectedResponses: number;
  attempts?: Array<{ referenceRuns: number[]; targetRuns: number[]; counted: boolean }>;
}
type MeasurePair = (
  reference: Side,
  target: Side,
  retries: { left: number },
  run: (side: Side, seconds: number) => Promise<{ rps: number; expected: number }>,
) => Promise<{ reference: Measured; target: Measured }>;

const { measurePair } = (await import(join(REPO_ROOT, 'bench/lib/httpLoad.mjs'))) as { measurePair: MeasurePair };
const timing = { warmupSeconds: 1, runSeconds: 2 };
const reference: Side = { name: 'reference', timing };
const target: Side = { name: 'target', timing };

/** Runs that answer from a script per side (warm-ups included), recording the order they ran in. */
function scripted(rates: Record<string, number[]>) {
  const order: string[] = [];
  const next: Record<string, number> = { reference: 0, target: 0 };
  const run = async (side: Side, seconds: number) => {
    order.push(`${side.name}:${seconds}`);
    const rps = rates[side.name]![next[side.name]!++]!;
    return { rps, expected: rps * seconds };
  };
  return { run, order };
}

describe('measurePair', () => {
  it('alternates warm-ups and two runs a side, each side keeping its better run', async () => {
    const { run, order } = scripted({ reference: [1, 100, 104], target: [1, 90, 85] });
    const retries = { left: 2 };
    const { reference: ref, target: tgt } = await measurePair(reference, target, retries, run);
    expect(order).toEqual(['reference:1', 'target:1', 'reference:2', 'target:2', 'reference:2', 'target:2']);
    expect([ref.rps, tgt.rps]).toEqual([104, 90]);
    expect(tgt.attempts).toBeUndefined();
    expect(retries.left).toBe(2);
  });

  it('measures a pair again when its reference runs differ by more than a quarter, and counts the steadier attempt', async () => {
    // The box slowed after the first reference run: 36.6 k then 25.2 k (the device row of 2026-12-07T15-05-30).
    const { run, order } = scripted({ reference: [1, 36_585, 25_234, 25_900, 26_300], target: [1, 21_803, 23_511, 24_100, 23_900] });
    const retries = { left: 2 };
    const { reference: ref, target: tgt } = await measurePair(reference, target, retries, run);
    expect(order).toHaveLength(10);
    expect(retries.left).toBe(1);
    expect([ref.rps, tgt.rps]).toEqual([26_300, 24_100]);
    expect(tgt.attempts!.map((attempt) => attempt.counted)).toEqual([false, true]);
    expect(tgt.attempts![0]!.referenceRuns).toEqual([36_585, 25_234]);
    // Every attempt's answered requests count (Redis commands are counted around all of them).
    expect(tgt.expectedResponses).toBe((21_803 + 23_511 + 24_100 + 23_900) * 2);
  });

  it('keeps the first attempt when it was the steadier one, whatever the ratio, and stops when the retries are spent', async () => {
    const first = scripted({ reference: [1, 30_000, 40_000, 20_000, 35_000], target: [1, 10_000, 12_000, 39_000, 39_500] });
    const retries = { left: 1 };
    const { target: tgt } = await measurePair(reference, target, retries, first.run);
    // The second attempt would have read a far better ratio; its reference moved more (1.75× against 1.33×).
    expect(tgt.rps).toBe(12_000);
    expect(retries.left).toBe(0);
    const spent = scripted({ reference: [1, 30_000, 40_000], target: [1, 10_000, 12_000] });
    const { target: again } = await measurePair(reference, target, retries, spent.run);
    expect(spent.order).toHaveLength(6);
    expect(again.attempts).toBeUndefined();
  });
});
