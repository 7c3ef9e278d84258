// RedisBus notices lost messages that no reconnect announced (Redis Cluster moving the subscription,
// a silent partition): a gap in a sender's sequence numbers fires the resync handlers.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../../src/cluster/RedisBus.js';
import { redisCommand, redisSettings, startRedis, type RedisServer } from '../helpers/redis.js';

const PREFIX = 'gaps:';
let redis: RedisServer;
let bus: RedisBus;
const resyncs: number[] = [];
const delivered: unknown[] = [];

function wire(seq: number, payload: unknown = { n: seq }): string {
  return JSON.stringify({ sender: 'peer-process', origin: 'peer', seq, topic: 'device.invalidate', payload });
}

async function publishRaw(message: string): Promise<void> {
  await redisCommand(redis, ['PUBLISH', `${PREFIX}bus`, message]);
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

beforeAll(async () => {
  redis = await startRedis();
  bus = new RedisBus(redisSettings({ url: redis.url, keyPrefix: PREFIX }), 'replica-under-test');
  bus.onResync(() => resyncs.push(Date.now()));
  bus.subscribe('device.invalidate', ({ payload }) => delivered.push(payload));
  await bus.start();
});

afterAll(async () => {
  await bus?.close();
  await redis?.stop();
});

describe('RedisBus sequence gaps', () => {
  it('resyncs when a sender skips a number, not for consecutive, late or duplicate messages', async () => {
    for (const seq of [1, 2, 3, 3, 2]) await publishRaw(wire(seq));
    await until('five deliveries', () => delivered.length === 5);
    expect(resyncs).toEqual([]);

    await publishRaw(wire(5)); // 4 was lost
    await until('the resync', () => resyncs.length === 1);
    await until('the message after the gap', () => delivered.length === 6);
    await publishRaw(wire(6));
    await until('seven deliveries', () => delivered.length === 7);
    expect(resyncs).toHaveLength(1);
    expect(bus.isReady()).toBe(true);
  });

  it('ignores messages without a sequence (older replicas during a rolling upgrade)', async () => {
    const before = resyncs.length;
    await publishRaw(JSON.stringify({ sender: 'old-replica', origin: 'old', topic: 'device.invalidate', payload: { old: 1 } }));
    await publishRaw(JSON.stringify({ sender: 'old-replica', origin: 'old', topic: 'device.invalidate', payload: { old: 2 } }));
    await until('both old-style messages', () => delivered.length === 9);
    expect(resyncs).toHaveLength(before);
  });
});
