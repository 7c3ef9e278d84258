// The cluster bus engines: RedisBus between replicas over real Redis (standalone and Cluster), LocalBus in-process.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalBus } from '../../src/cluster/LocalBus.js';
import { RedisBus } from '../../src/cluster/RedisBus.js';
import { MAX_BUS_MESSAGE_BYTES, type BusEnvelope, type BusTopic, type ClusterBus } from '../../src/cluster/types.js';
import {
  redisSettings as defaultRedisSettings,
  sharedRedis,
  startCluster,
  startRedis,
  type ClusterSetup,
  type RedisServer,
  type RedisSettings,
} from '../helpers/redis.js';

function redisSettings(overrides: Partial<RedisSettings>): RedisSettings {
  return defaultRedisSettings({ keyPrefix: 'bus-test:', ...overrides });
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Everything one bus instance delivered to its subscribers, per topic. */
class Inbox {
  readonly received: BusEnvelope[] = [];
  constructor(bus: ClusterBus, topics: BusTopic[]) {
    for (const topic of topics) bus.subscribe(topic, (envelope) => this.received.push(envelope));
  }
  payloads(topic?: BusTopic): unknown[] {
    return this.received.filter((e) => topic === undefined || e.topic === topic).map((e) => e.payload);
  }
  has(payload: unknown): boolean {
    return this.received.some((e) => JSON.stringify(e.payload) === JSON.stringify(payload));
  }
}

const ALL_TOPICS: BusTopic[] = ['auth.blocked', 'device.invalidate', 'session.notify', 'session.close'];

interface BusPair {
  a: RedisBus;
  b: RedisBus;
  errors: unknown[];
  open(replicaId: string, overrides?: Partial<RedisSettings>): Promise<RedisBus>;
  closeAll(): Promise<void>;
}

function busPair(settings: () => RedisSettings): BusPair {
  const buses: RedisBus[] = [];
  const pair: BusPair = {
    a: undefined as unknown as RedisBus,
    b: undefined as unknown as RedisBus,
    errors: [],
    async open(replicaId, overrides = {}) {
      const bus = new RedisBus({ ...settings(), ...overrides }, replicaId, (error) => pair.errors.push(error));
      buses.push(bus);
      await bus.start();
      return bus;
    },
    async closeAll() {
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
    },
  };
  return pair;
}

/**
 * Redis delivers a channel's messages to each subscriber in the order it processed the PUBLISHes. Once
 * `bus` has seen a marker published after `published` resolved, anything that would have arrived did.
 */
async function barrier(publisher: ClusterBus, receiver: Inbox, topic: BusTopic = 'session.notify'): Promise<void> {
  const marker = { barrier: Math.random() };
  await publisher.publish(topic, marker);
  await waitFor('the barrier message', () => receiver.has(marker), 5_000);
}

describe('RedisBus on standalone Redis', () => {
  let server: RedisServer;
  const pair = busPair(() => redisSettings({ url: server.url }));

  beforeAll(async () => {
    server = await startRedis();
  });
  afterEach(async () => {
    await pair.closeAll();
    expect(pair.errors).toEqual([]);
    pair.errors.length = 0;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('delivers across instances with topic and origin, and drops its own echo', async () => {
    const [a, b, c] = [await pair.open('replica-a'), await pair.open('replica-b'), await pair.open('replica-c')];
    const [inboxA, inboxB, inboxC] = [new Inbox(a, ALL_TOPICS), new Inbox(b, ALL_TOPICS), new Inbox(c, ALL_TOPICS)];
    expect(a.isReady() && b.isReady()).toBe(true);

    await a.publish('session.notify', { sessionId: 's1', method: 'node.pair.requested' });
    // local subscribers are served at publish
    expect(inboxA.received).toEqual([
      { topic: 'session.notify', origin: 'replica-a', payload: { sessionId: 's1', method: 'node.pair.requested' } },
    ]);
    await waitFor('b to receive', () => inboxB.received.length === 1);
    expect(inboxB.received).toEqual(inboxA.received);

    // c publishes after a's publish resolved: once a sees c's marker, a's own echo would have arrived too
    await barrier(c, inboxA);
    expect(inboxA.payloads()).toHaveLength(2);
    expect(inboxC.payloads('session.notify')).toHaveLength(2);
  });

  it('delivers by topic and stops after unsubscribe', async () => {
    const [a, b] = [await pair.open('replica-a'), await pair.open('replica-b')];
    const invalidations: unknown[] = [];
    const unsubscribe = b.subscribe('device.invalidate', (e) => invalidations.push(e.payload));
    const inboxB = new Inbox(b, ['session.notify']);

    await a.publish('session.close', { deviceId: 'd1' });
    await a.publish('device.invalidate', { tokenHash: 'h1' });
    await barrier(a, inboxB);
    expect(invalidations).toEqual([{ tokenHash: 'h1' }]);

    unsubscribe();
    await a.publish('device.invalidate', { tokenHash: 'h2' });
    await barrier(a, inboxB);
    expect(invalidations).toEqual([{ tokenHash: 'h1' }]);
  });

  it('reaches another process that reuses the replica id, but not another key prefix', async () => {
    const a = await pair.open('replica-a');
    const twin = await pair.open('replica-a');
    const stranger = await pair.open('replica-z', { keyPrefix: 'other-gateway:' });
    const [inboxTwin, inboxStranger] = [new Inbox(twin, ALL_TOPICS), new Inbox(stranger, ALL_TOPICS)];
    await a.publish('auth.blocked', { clientIp: '203.0.113.7' });
    await waitFor('the twin to receive', () => inboxTwin.has({ clientIp: '203.0.113.7' }));
    const strangerPeer = await pair.open('replica-y', { keyPrefix: 'other-gateway:' });
    await barrier(strangerPeer, inboxStranger);
    expect(inboxStranger.has({ clientIp: '203.0.113.7' })).toBe(false);
  });

  it('refuses messages above the size cap, locally and remotely', async () => {
    const [a, b] = [await pair.open('replica-a'), await pair.open('replica-b')];
    const [inboxA, inboxB] = [new Inbox(a, ALL_TOPICS), new Inbox(b, ALL_TOPICS)];
    const huge = { blob: 'x'.repeat(MAX_BUS_MESSAGE_BYTES) };
    await expect(a.publish('session.notify', huge)).rejects.toThrow(/too large/);
    // multi-byte characters count as bytes, not as string length
    const wide = { blob: 'é'.repeat(MAX_BUS_MESSAGE_BYTES / 2) };
    await expect(a.publish('session.notify', wide)).rejects.toThrow(/too large/);
    expect(inboxA.received).toEqual([]);
    await barrier(a, inboxB);
    expect(inboxB.received).toHaveLength(1); // only the barrier

    const fits = { blob: 'x'.repeat(MAX_BUS_MESSAGE_BYTES - 1_000) };
    await a.publish('session.notify', fits);
    await waitFor('the large message', () => inboxB.received.length === 2);
  });

  it('is not ready while Redis is down, resyncs after it is back, and delivers again', async () => {
    const [a, b] = [await pair.open('replica-a'), await pair.open('replica-b')];
    const resyncs = { a: 0, b: 0 };
    a.onResync(() => resyncs.a++);
    b.onResync(() => resyncs.b++);
    const inboxB = new Inbox(b, ALL_TOPICS);
    await sleep(100);
    expect(resyncs).toEqual({ a: 0, b: 0 }); // the first subscription is not a resync

    await server.kill();
    await waitFor('both buses to report not ready', () => !a.isReady() && !b.isReady(), 5_000);
    await expect(a.publish('session.notify', { lost: true })).rejects.toThrow();

    await server.restart();
    await waitFor('both buses to resync', () => resyncs.a === 1 && resyncs.b === 1);
    await waitFor('both buses to be ready', () => a.isReady() && b.isReady());
    await a.publish('session.notify', { after: 'restart' });
    await waitFor('delivery after the restart', () => inboxB.has({ after: 'restart' }));
    expect(inboxB.has({ lost: true })).toBe(false);
    expect(resyncs).toEqual({ a: 1, b: 1 });
    pair.errors.length = 0; // failed resubscribe attempts while down are reported through onError
  });
});

describe('RedisBus on a shared Redis (REDIS_URL when set)', () => {
  let server: RedisServer;
  const pair = busPair(() => redisSettings({ url: server.url, keyPrefix: `bus-shared-${process.pid}:` }));
  beforeAll(async () => {
    server = await sharedRedis();
  });
  afterAll(async () => {
    await pair.closeAll();
    await server?.stop();
  });

  it('closes cleanly: no delivery and not ready after close', async () => {
    const [a, b] = [await pair.open('replica-a'), await pair.open('replica-b')];
    const inboxB = new Inbox(b, ALL_TOPICS);
    await b.close();
    expect(b.isReady()).toBe(false);
    await a.publish('session.close', { deviceId: 'd1' });
    await sleep(100);
    expect(inboxB.received).toEqual([]);
  });
});

const redisServerMissing = !process.env.PATH?.split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, 'redis-server')));

describe.skipIf(redisServerMissing)('RedisBus on Redis Cluster', () => {
  let cluster: ClusterSetup;
  const pair = busPair(() => redisSettings({ clusterNodes: cluster.nodesString.split(',') }));
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await pair.closeAll();
    await cluster?.stop();
  });

  it('delivers across instances and drops its own echo', async () => {
    const [a, b] = [await pair.open('replica-a'), await pair.open('replica-b')];
    const [inboxA, inboxB] = [new Inbox(a, ALL_TOPICS), new Inbox(b, ALL_TOPICS)];
    expect(a.isReady() && b.isReady()).toBe(true);
    await a.publish('device.invalidate', { tokenHash: 'h1' });
    await b.publish('device.invalidate', { tokenHash: 'h2' });
    await waitFor('both messages on both', () => inboxA.received.length === 2 && inboxB.received.length === 2);
    // Publishes reach other nodes over the cluster bus, so there is no cross-node order to build a barrier
    // on: give a late echo time to show up instead.
    await sleep(300);
    for (const inbox of [inboxA, inboxB]) {
      expect(inbox.received.map((e) => `${e.origin} ${JSON.stringify(e.payload)}`).sort()).toEqual([
        'replica-a {"tokenHash":"h1"}',
        'replica-b {"tokenHash":"h2"}',
      ]);
    }
    expect(pair.errors).toEqual([]);
  });
});

describe('LocalBus', () => {
  it('delivers to local subscribers by topic, with origin, until unsubscribed', async () => {
    const errors: unknown[] = [];
    const bus = new LocalBus('replica-local', (error) => errors.push(error));
    await bus.start();
    expect(bus.isReady()).toBe(true);
    const resyncs: number[] = [];
    bus.onResync(() => resyncs.push(1));
    const inbox = new Inbox(bus, ['session.notify']);
    const unsubscribe = bus.subscribe('device.invalidate', () => {
      throw new Error('handler failure');
    });

    await bus.publish('session.notify', { n: 1 });
    await bus.publish('session.close', { n: 2 });
    await bus.publish('device.invalidate', { n: 3 });
    unsubscribe();
    await bus.publish('device.invalidate', { n: 4 });
    expect(inbox.received).toEqual([{ topic: 'session.notify', origin: 'replica-local', payload: { n: 1 } }]);
    expect(errors).toHaveLength(1); // a throwing handler is reported, not propagated to the publisher
    expect(resyncs).toEqual([]);
    await bus.close();
  });
});
