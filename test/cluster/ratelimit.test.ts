import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/httpRequest.js';
import { redisCommand, startRedis, type RedisServer } from '../helpers/redis.js';

const TOKEN = 'cluster-suite-token-9d07';
const RATE_LIMITED_BODY = '{"error":{"message":"Too many failed authentication attempts. Please try again later.","type":"rate_limited"}}';

/** Commands Redis has executed, by command, excluding the INFO calls that measure it. */
async function commandCounts(redis: RedisServer): Promise<Map<string, number>> {
  const info = String(await redisCommand(redis, ['INFO', 'commandstats']));
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') counts.set(match[1] ?? '', Number(match[2]));
  }
  return counts;
}

function difference(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [command, calls] of after) {
    const delta = calls - (before.get(command) ?? 0);
    if (delta !== 0) changed[command] = delta;
  }
  return changed;
}

describe('3 replicas sharing one Redis', () => {
  let redis: RedisServer;
  let replicas: GatewayProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    replicas = await Promise.all(
      [1, 2, 3].map((n) =>
        startGateway({
          env: { OPENCLAW_REPLICA_ID: `replica-${n}` },
          config: { auth: { token: TOKEN }, trustedProxies: ['127.0.0.1'], redis: { url: redis.url } },
        }),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await redis?.stop();
  });

  const asClient = (replica: GatewayProcess, clientIp: string, secret?: string) =>
    httpRequest(`${replica.url}/v1/whoami`, {
      headers: { 'x-forwarded-for': clientIp, ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    });

  it('20 failures spread over the replicas block the IP on all of them at once', async () => {
    const client = '203.0.113.80';
    for (let failure = 1; failure <= 20; failure++) {
      const replica = replicas[failure % 3]!;
      expect((await asClient(replica, client, `wrong-${failure}`)).status, `failure ${failure}`).toBe(401);
    }
    for (const replica of replicas) {
      const response = await asClient(replica, client, TOKEN);
      expect(response.status).toBe(429);
      expect(response.body).toBe(RATE_LIMITED_BODY);
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(response.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    for (const replica of replicas) expect((await asClient(replica, '203.0.113.81', TOKEN)).status).toBe(200);
  });

  it('a successful request makes no Redis round trip', async () => {
    for (const replica of replicas) expect((await asClient(replica, '203.0.113.82', TOKEN)).status).toBe(200); // warm up
    const before = await commandCounts(redis);
    const startedAt = Date.now();
    for (let request = 0; request < 150; request++) {
      const replica = replicas[request % 3]!;
      const response = await asClient(replica, `203.0.113.${100 + (request % 50)}`, TOKEN);
      expect(response.status).toBe(200);
    }
    const after = await commandCounts(redis);
    const { publish = 0, ...requestCommands } = difference(before, after);
    expect(requestCommands).toEqual({});
    // PUBLISH: only the cluster bus heartbeat, one a second from each replica whatever the traffic (150 here
    // would mean one a request).
    const heartbeats = replicas.length * (Math.ceil((Date.now() - startedAt) / 1000) + 1);
    expect(publish).toBeLessThanOrEqual(heartbeats);
  });

  it('a failure does touch Redis (the measurement can see the limiter)', async () => {
    const before = await commandCounts(redis);
    expect((await asClient(replicas[0]!, '203.0.113.90', 'wrong')).status).toBe(401);
    const changed = difference(before, await commandCounts(redis));
    expect(Object.values(changed).reduce((sum, calls) => sum + calls, 0)).toBeGreaterThan(0);
  });
});
