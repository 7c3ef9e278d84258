// The WebSocket session layer across replicas: notifications by role, by session id and by device reach
// sessions on another replica through the Redis bus; device sessions are closed (4001) wherever they are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { connectRpc, openRpc, type RpcClient, type RpcResponse } from '../helpers/wsRpc.js';
import { NODE_CONNECT_EXAMPLE } from '../helpers/specExamples.js';

const TOKEN = 'ws-notify-cluster-test-token-0123456789abcdef';

let redis: RedisServer;
let a: GatewayProcess;
let b: GatewayProcess;
const clients: RpcClient[] = [];
let nextAddress = 40;
const freshAddress = () => `127.0.0.${nextAddress++}`;

beforeAll(async () => {
  redis = await startRedis();
  const env = { OPENCLAW_GATEWAY_TOKEN: TOKEN, OPENCLAW_REDIS_URL: redis.url };
  [a, b] = await Promise.all([
    startGateway({ env: { ...env, OPENCLAW_REPLICA_ID: 'ws-a' } }),
    startGateway({ env: { ...env, OPENCLAW_REPLICA_ID: 'ws-b' } }),
  ]);
  await Promise.all([a, b].map(waitReady));
});

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all([a?.kill(), b?.kill()]);
  await redis?.stop();
});

async function waitReady(gateway: GatewayProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await fetch(`${gateway.url}/readyz`)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${gateway.url} never became ready`);
}

async function session(gateway: GatewayProcess, role: string, auth: Record<string, string> = { token: TOKEN }): Promise<RpcClient> {
  const { client, result } = await connectRpc(gateway.wsUrl, { role, auth }, { localAddress: freshAddress() });
  expect((result.server as { replicaId: string }).replicaId).toBe(gateway === a ? 'ws-a' : 'ws-b');
  clients.push(client);
  return client;
}

function resultOf<T>(response: RpcResponse): T {
  if (!response.result) throw new Error(`expected a result, got ${JSON.stringify(response.error)}`);
  return response.result as T;
}

/** Pairing request from a pre-connect session on `requester`, approved by a control session on `approver`. */
async function pairDevice(requester: GatewayProcess, approver: RpcClient) {
  const device = await openRpc(requester.wsUrl, { localAddress: freshAddress() });
  clients.push(device);
  const request = resultOf<{ requestId: string; deviceId: string }>(await device.call('node.pair.request', { displayName: 'ws test device' }));
  resultOf(await approver.call('node.pair.approve', { requestId: request.requestId }));
  const resolved = await device.waitForNotification('node.pair.resolved', (p) => (p as { requestId: string }).requestId === request.requestId);
  return { device, request, token: (resolved.params as { token: string }).token };
}

describe('notifications across replicas', () => {
  it('a role notification published on replica A reaches control sessions on replica B, and only them', async () => {
    const controlB = await session(b, 'control');
    const webchatB = await session(b, 'webchat');
    const nodeB = await session(b, 'node');
    const requester = await openRpc(a.wsUrl, { localAddress: freshAddress() });
    clients.push(requester);
    const request = resultOf<{ requestId: string }>(await requester.call('node.pair.request', { displayName: 'from replica A' }));
    const seen = await controlB.waitForNotification(
      'node.pair.requested',
      (p) => (p as { request: { requestId: string } }).request.requestId === request.requestId,
    );
    expect(seen).toEqual({ jsonrpc: '2.0', method: 'node.pair.requested', params: expect.any(Object) });
    expect('id' in seen).toBe(false);
    await controlB.call('status'); // a round trip later, nothing reached the other roles
    expect(webchatB.notifications).toEqual([]);
    expect(nodeB.notifications).toEqual([]);
  });
});

describe('device sessions', () => {
  it('accepts the node connect example with a real device token on another replica, and only as node', async () => {
    const controlA = await session(a, 'control');
    const { request, token } = await pairDevice(a, controlA);
    const node = await openRpc(b.wsUrl, { localAddress: freshAddress() });
    clients.push(node);
    node.send(NODE_CONNECT_EXAMPLE.replace('device-token-here', token));
    expect((await node.waitForResponse(1)).result).toEqual({
      sessionId: expect.any(String),
      role: 'node',
      auth: { method: 'device', identity: `device:${request.deviceId}` },
      server: { name: 'openclaw-gateway', version: expect.any(String), replicaId: 'ws-b' },
    });
    // the node role table: status yes, logs.tail no, another device's token no
    expect(resultOf(await node.call('status'))).toMatchObject({ replicaId: 'ws-b' });
    expect((await node.call('logs.tail')).error).toMatchObject({ code: -32003, data: { type: 'forbidden' } });
    expect((await node.call('device.token.rotate', { deviceId: 'someone-else' })).error).toMatchObject({ code: -32003 });

    const asControl = await openRpc(b.wsUrl, { localAddress: freshAddress() });
    clients.push(asControl);
    const refused = await asControl.call('connect', { role: 'control', auth: { token } });
    expect(refused.error).toMatchObject({ code: -32003, data: { type: 'forbidden' } });
    expect((await asControl.closed).code).toBe(1008);
  });

  it('rotating a device token on replica A closes its sessions on replica B with 4001', async () => {
    const controlA = await session(a, 'control');
    const { request, token } = await pairDevice(a, controlA);
    const nodeB = await session(b, 'node', { token });
    const rotated = resultOf<{ token: string }>(await controlA.call('device.token.rotate', { deviceId: request.deviceId }));
    expect((await nodeB.closed).code).toBe(4001);
    // the new token connects, on either replica; the old one is refused
    await session(b, 'node', { token: rotated.token });
    const stale = await openRpc(a.wsUrl, { localAddress: freshAddress() });
    clients.push(stale);
    expect((await stale.call('connect', { role: 'node', auth: { token } })).error).toMatchObject({ code: -32001 });
  });
});
