// A hook posted on one replica reaches control sessions on every replica (Redis pub/sub).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { bearer } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { connectRpc, type RpcClient } from '../helpers/wsRpc.js';

const TOKEN = 'hooks-cluster-test-gateway-token-0123456789';
const NOT_LOOPBACK = { 'x-forwarded-for': '203.0.113.31' };

let redis: RedisServer;
let a: GatewayProcess;
let b: GatewayProcess;
const clients: RpcClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const env = { OPENCLAW_GATEWAY_TOKEN: TOKEN, OPENCLAW_REDIS_URL: redis.url };
  [a, b] = await Promise.all([
    startGateway({ env: { ...env, OPENCLAW_REPLICA_ID: 'hooks-a' } }),
    startGateway({ env: { ...env, OPENCLAW_REPLICA_ID: 'hooks-b' } }),
  ]);
  await Promise.all([a, b].map((gateway) => waitReady(gateway)));
});

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

async function waitReady(gateway: GatewayProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await fetch(`${gateway.url}/readyz`)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${gateway.url} never became ready`);
}

async function session(gateway: GatewayProcess, role: string): Promise<RpcClient> {
  const { client, result } = await connectRpc(gateway.wsUrl, { role, auth: { token: TOKEN } });
  expect((result.server as { replicaId: string }).replicaId).toBe(gateway === a ? 'hooks-a' : 'hooks-b');
  clients.push(client);
  return client;
}

describe('hooks across replicas', () => {
  it('delivers a hook posted on replica A to control sessions on replicas A and B, once each', async () => {
    const [controlA, controlB, webchatB] = await Promise.all([session(a, 'control'), session(b, 'control'), session(b, 'webchat')]);

    const response = await fetch(`${a.url}/hooks/cluster-test`, {
      method: 'POST',
      headers: { ...bearer(TOKEN), 'content-type': 'application/json', ...NOT_LOOPBACK },
      body: JSON.stringify({ from: 'a' }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };

    const matches = (params: unknown) => (params as { id: string }).id === id;
    const onB = await controlB.waitForNotification('hook', matches);
    expect(onB.params).toEqual({ name: 'cluster-test', id, payload: { from: 'a' }, receivedAt: expect.any(Number) });
    await controlA.waitForNotification('hook', matches);

    // Round trips after delivery: no duplicates, and nothing for the webchat session.
    await Promise.all([controlA.call('status'), controlB.call('status'), webchatB.call('status')]);
    expect(controlA.notifications.filter((n) => n.method === 'hook' && matches(n.params))).toHaveLength(1);
    expect(controlB.notifications.filter((n) => n.method === 'hook' && matches(n.params))).toHaveLength(1);
    expect(webchatB.notifications.filter((n) => n.method === 'hook')).toEqual([]);
  });
});
