import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/httpRequest.js';
import { redisCommand, startRedis, type RedisServer } from '../helpers/redis.js';

const TOKEN = 'redis-suite-token-a41f';

describe('failed-auth limiter on Redis, and when Redis dies', () => {
  let redis: RedisServer;
  let local: GatewayProcess;
  let deny: GatewayProcess;

  beforeAll(async () => {
    redis = await startRedis();
    const config = (onStoreFailure: string, keyPrefix: string) => ({
      auth: { token: TOKEN, rateLimit: { maxFailures: 3, windowSeconds: 60, onStoreFailure } },
      trustedProxies: ['127.0.0.1'],
      redis: { url: redis.url, keyPrefix },
    });
    [local, deny] = await Promise.all([
      startGateway({ config: config('local', 'local:') }),
      startGateway({ config: config('deny', 'deny:') }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([local?.stop(), deny?.stop()]);
    await redis?.stop();
  });

  const asClient = (gateway: GatewayProcess, clientIp: string, secret?: string) =>
    httpRequest(`${gateway.url}/v1/whoami`, {
      headers: { 'x-forwarded-for': clientIp, ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    });

  it('counts failures in Redis under the key prefix while Redis is up', async () => {
    expect((await asClient(local, '203.0.113.70')).status).toBe(401);
    expect((await asClient(deny, '203.0.113.70')).status).toBe(401);
    expect(await redisCommand(redis, ['GET', 'local:authfail:203.0.113.70'])).toBe('1');
    expect(await redisCommand(redis, ['GET', 'deny:authfail:203.0.113.70'])).toBe('1');
  });

  it('with Redis killed: successes still succeed; `local` counts per replica, `deny` answers 503', async () => {
    await redis.kill();

    expect((await asClient(local, '203.0.113.71', TOKEN)).status).toBe(200);
    expect((await asClient(deny, '203.0.113.71', TOKEN)).status).toBe(200);

    for (let failure = 1; failure <= 3; failure++) expect((await asClient(local, '203.0.113.72')).status).toBe(401);
    const blocked = await asClient(local, '203.0.113.72', TOKEN);
    expect(blocked.status).toBe(429);
    expect(blocked.json()).toEqual({
      error: { message: 'Too many failed authentication attempts. Please try again later.', type: 'rate_limited' },
    });

    const refused = await asClient(deny, '203.0.113.72');
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ error: { type: 'unavailable' } });
    expect((await asClient(deny, '203.0.113.72', TOKEN)).status).toBe(200);
  });

  it('goes back to the shared counter once Redis is back', async () => {
    await redis.restart();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 401; attempt++) {
      status = (await asClient(deny, '203.0.113.73')).status;
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
    expect(await redisCommand(redis, ['GET', 'deny:authfail:203.0.113.73'])).toBe('1');
    const output = [...local.lines, ...deny.lines].join('\n');
    expect(output).not.toContain(TOKEN);
  });
});
