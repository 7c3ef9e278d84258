import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import {
  redisCommand,
  startCluster,
  startRedis,
  startSentinel,
  type ClusterSetup,
  type RedisServer,
  type SentinelSetup,
} from '../helpers/redis.js';

const quiet = { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true } as const;

describe('startRedis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('answers SET/GET, dies on kill() and comes back on the same port after restart()', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const client = new Redis(redis.url, quiet);
    client.on('error', () => {});
    await client.connect();
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    client.disconnect();

    await redis.kill();
    await expect(redisCommand(redis, ['PING'], 500)).rejects.toThrow();

    await redis.restart();
    expect(await redisCommand(redis, ['PING'])).toBe('PONG');
    expect(await redisCommand(redis, ['GET', 'k'])).toBeNull(); // no persistence
    await redisCommand(redis, ['SET', 'k2', 'v2']);
    await redis.flushAll();
    expect(await redisCommand(redis, ['DBSIZE'])).toBe(0);
  });
});

describe('startSentinel', () => {
  let setup: SentinelSetup;
  beforeAll(async () => {
    setup = await startSentinel();
  });
  afterAll(async () => {
    await setup?.stop();
  });

  it('fails over to the replica and a fresh sentinel client can write again', { timeout: 60_000 }, async () => {
    expect(setup.sentinelsString.split(',')).toHaveLength(3);
    const client = new Redis({ sentinels: setup.sentinels, name: setup.name, lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    await client.set('before', '1');
    expect(await client.get('before')).toBe('1');
    client.disconnect();

    await setup.killPrimary();
    const next = await setup.waitForFailover(30_000);
    expect(next).toEqual({ host: '127.0.0.1', port: setup.replica.port });

    const fresh = new Redis({ sentinels: setup.sentinels, name: setup.name, lazyConnect: true });
    fresh.on('error', () => {});
    await fresh.connect();
    await fresh.set('after', '2');
    expect(await fresh.get('after')).toBe('2');
    expect(await fresh.get('before')).toBe('1'); // replicated before the failover
    fresh.disconnect();
  });
});

describe('startCluster', () => {
  let cluster: ClusterSetup;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('serves 100 keys spread over the slots', async () => {
    expect(cluster.nodesString.split(',')).toHaveLength(3);
    const client = new Cluster(cluster.nodes, { lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    const keys = Array.from({ length: 100 }, (_, i) => `key:${i}`);
    await Promise.all(keys.map((k) => client.set(k, k.toUpperCase())));
    const values = await Promise.all(keys.map((k) => client.get(k)));
    expect(values).toEqual(keys.map((k) => k.toUpperCase()));

    // the keys really are spread over all three masters
    const counts = await Promise.all(cluster.servers.map((s) => redisCommand(s, ['DBSIZE'])));
    for (const c of counts) expect(Number(c)).toBeGreaterThan(0);
    expect(counts.reduce((a: number, c) => a + Number(c), 0)).toBe(100);
    client.disconnect();
  });

  it('a restarted node rejoins with its nodes.conf', async () => {
    const [first] = cluster.servers;
    await first!.kill();
    await first!.restart();
    await cluster.waitForOk(20_000);
    const client = new Cluster(cluster.nodes, { lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    await client.set('after-restart', 'ok');
    expect(await client.get('after-restart')).toBe('ok');
    client.disconnect();
  });
});
