import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient } from '../../src/store/redis/connection.js';
import { redisCommand, redisSettings, startRedis, type RedisServer } from '../helpers/redis.js';

// The chart and k8s/ put the Redis URL (no password) in the ConfigMap and the password in a Secret
// (OPENCLAW_REDIS_PASSWORD), so a password-protected Redis must accept that pair.
describe('Redis URL from the config file + password from the Secret', () => {
  const password = 'pw-from-kubernetes-secret-5f2a';
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
    await redisCommand(redis.url, ['CONFIG', 'SET', 'requirepass', password]);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const settings = (url: string, pw: string) => redisSettings({ url, password: pw });

  it('authenticates with gateway.redis.password when the URL carries none', async () => {
    const client = createRedisClient(settings(redis.url, password), 'deploy-test');
    client.on('error', () => {});
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('is refused without it, and a password inside the URL wins over gateway.redis.password', async () => {
    const without = createRedisClient(settings(redis.url, ''), 'deploy-test');
    without.on('error', () => {});
    try {
      await expect(without.connect().then(() => without.ping())).rejects.toThrow();
    } finally {
      without.disconnect();
    }
    const inUrl = createRedisClient(settings(`redis://:${password}@127.0.0.1:${redis.port}`, 'wrong-password'), 'deploy-test');
    inUrl.on('error', () => {});
    try {
      await inUrl.connect();
      expect(await inUrl.ping()).toBe('PONG');
    } finally {
      inUrl.disconnect();
    }
  });
});
