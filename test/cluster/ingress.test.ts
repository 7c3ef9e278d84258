// Three replicas on one Redis behind nginx: the deployment shape of the Helm chart, on one machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { bearer, fetchFrom } from '../helpers/http.js';
import { UPSTREAM_FAIL_TIMEOUT_SECONDS, startIngress, type Ingress } from '../helpers/nginx.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { connectRpc, openRpc } from '../helpers/wsRpc.js';

const TOKEN = 'ingress-test-token-0123456789';
const RATE_LIMITED = {
  error: { message: 'Too many failed authentication attempts. Please try again later.', type: 'rate_limited' },
};

let redis: RedisServer;
let replicas: GatewayProcess[] = [];
let ingress: Ingress;

function replicaEnv(n: number): Record<string, string> {
  return {
    OPENCLAW_REDIS_URL: redis.url,
    OPENCLAW_GATEWAY_TOKEN: TOKEN,
    OPENCLAW_GATEWAY_TRUSTED_PROXIES: '127.0.0.1/32',
    OPENCLAW_REPLICA_ID: `replica-${n}`,
  };
}

beforeAll(async () => {
  redis = await startRedis();
  replicas = await Promise.all([1, 2, 3].map((n) => startGateway({ env: replicaEnv(n), drainSeconds: 1 })));
  ingress = await startIngress(replicas.map((replica) => replica.port));
}, 60_000);

afterAll(async () => {
  await ingress?.stop();
  await Promise.all(replicas.map((replica) => replica.kill()));
  await redis?.stop();
});

describe('behind nginx', () => {
  it('sees the real client IP through X-Forwarded-For and spreads requests over the replicas', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const whoami = await fetchFrom('127.0.0.2', `${ingress.url}/v1/whoami`, { headers: bearer(TOKEN) });
      expect(whoami.status).toBe(200);
      expect(await whoami.json()).toEqual({ method: 'token', identity: 'token', role: 'control', clientIp: '127.0.0.2' });
      const status = await fetchFrom('127.0.0.2', `${ingress.url}/v1/status`, { headers: bearer(TOKEN) });
      seen.add(((await status.json()) as { replicaId: string }).replicaId);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('does not treat proxied requests as loopback', async () => {
    const response = await fetchFrom('127.0.0.3', `${ingress.url}/v1/whoami`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="openclaw"');
  });

  it('ignores a client-supplied X-Forwarded-For hop to the left of the real client', async () => {
    const response = await fetchFrom('127.0.0.4', `${ingress.url}/v1/whoami`, {
      headers: { ...bearer(TOKEN), 'x-forwarded-for': '203.0.113.7' },
    });
    expect(((await response.json()) as { clientIp: string }).clientIp).toBe('127.0.0.4');
  });

  it('blocks an IP on every replica after 20 failures spread over them, and no one else', async () => {
    const attacker = '127.0.0.5';
    for (let i = 0; i < 20; i++) {
      const response = await fetchFrom(attacker, `${ingress.url}/v1/models`, { headers: bearer(`wrong-${i}`) });
      expect(response.status, `failure ${i + 1}`).toBe(401);
    }
    for (let i = 0; i < 6; i++) {
      const response = await fetchFrom(attacker, `${ingress.url}/v1/models`, { headers: bearer(TOKEN) });
      expect(response.status).toBe(429);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await response.json()).toEqual(RATE_LIMITED);
    }
    for (const replica of replicas) {
      const direct = await fetchFrom('127.0.0.1', `${replica.url}/v1/models`, {
        headers: { ...bearer(TOKEN), 'x-forwarded-for': attacker },
      });
      expect(direct.status, replica.url).toBe(429);
    }
    const bystander = await fetchFrom('127.0.0.6', `${ingress.url}/v1/models`, { headers: bearer(TOKEN) });
    expect(bystander.status).toBe(200);
  });

  it('carries WebSocket connections', async () => {
    const ws = new WebSocket(ingress.wsUrl, { localAddress: '127.0.0.7' });
    const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () =>
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'connect', params: { role: 'control', auth: { token: TOKEN } } })),
      );
      ws.once('message', (data) => resolve(JSON.parse(String(data)) as Record<string, unknown>));
    });
    ws.close();
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: 1, result: { role: 'control', auth: { method: 'token' } } });
  });

  it('pairs a device through the ingress; its token works over WebSocket and HTTP on whichever replica', async () => {
    const { client: control } = await connectRpc(ingress.wsUrl, { role: 'control', auth: { token: TOKEN } }, { localAddress: '127.0.0.9' });
    const device = await openRpc(ingress.wsUrl, { localAddress: '127.0.0.10' });
    try {
      const requested = await device.call('node.pair.request', { displayName: 'ingress phone', platform: 'ios' });
      const { requestId, deviceId } = requested.result as { requestId: string; deviceId: string };
      const approved = await control.call('node.pair.approve', { requestId });
      expect(approved.result).toMatchObject({ deviceId });
      const resolved = await device.waitForNotification('node.pair.resolved');
      const { token } = resolved.params as { token: string };
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      for (let i = 0; i < 3; i++) {
        const { client: node, result } = await connectRpc(ingress.wsUrl, { role: 'node', auth: { token } }, { localAddress: '127.0.0.10' });
        expect(result).toMatchObject({ role: 'node', auth: { method: 'device', identity: `device:${deviceId}` } });
        node.close();
        const whoami = await fetchFrom('127.0.0.10', `${ingress.url}/v1/whoami`, { headers: bearer(token) });
        expect(await whoami.json()).toEqual({ method: 'device', identity: `device:${deviceId}`, role: 'node', clientIp: '127.0.0.10' });
      }
    } finally {
      device.close();
      control.close();
    }
  });

  it('a rolling restart (SIGTERM one replica at a time) under steady load gives no 5xx', async () => {
    const statuses = new Map<number | string, number>();
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          const response = await fetchFrom('127.0.0.11', `${ingress.url}/v1/models`, { headers: bearer(TOKEN) });
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        } catch (error) {
          statuses.set(String((error as Error).message), (statuses.get(String((error as Error).message)) ?? 0) + 1);
        }
      }
    })();
    for (let i = 0; i < replicas.length; i++) {
      const old = replicas[i]!;
      expect(await old.stop('SIGTERM')).toBe(0);
      replicas[i] = await startGateway({ port: old.port, env: replicaEnv(i + 1), drainSeconds: 1 });
      // As a Kubernetes rolling update waits for the new pod to be ready: nginx has no readiness probe, so the
      // restarted replica is back in rotation once its failed attempts have aged out. Without this wait the
      // next SIGTERM could leave every replica out of rotation at once (nginx: "no live upstreams", 502).
      await new Promise((resolve) => setTimeout(resolve, UPSTREAM_FAIL_TIMEOUT_SECONDS * 1000 + 500));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    running = false;
    await load;
    const total = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    expect(total).toBeGreaterThan(50);
    expect(Object.fromEntries(statuses)).toEqual({ 200: total });
  }, 60_000);

  it('loses nothing when a replica dies: clients reconnect to another and paired devices still work', async () => {
    const { client: control } = await connectRpc(ingress.wsUrl, { role: 'control', auth: { token: TOKEN } }, { localAddress: '127.0.0.12' });
    const before = (await control.call('device.list', {})).result as { devices: unknown[] };
    expect(before.devices.length).toBeGreaterThan(0);
    control.close();
    const sessions = await Promise.all(
      Array.from({ length: 6 }, () => connectRpc(ingress.wsUrl, { role: 'control', auth: { token: TOKEN } }, { localAddress: '127.0.0.13' })),
    );
    const doomed = replicas[2]!;
    const onDoomed = sessions.filter(({ result }) => (result.server as { replicaId: string }).replicaId === 'replica-3');
    await doomed.kill();
    for (const { client } of onDoomed) expect((await client.closed).code).toBeGreaterThan(0);
    const { client: again, result } = await connectRpc(ingress.wsUrl, { role: 'control', auth: { token: TOKEN } }, { localAddress: '127.0.0.13' });
    expect((result.server as { replicaId: string }).replicaId).not.toBe('replica-3');
    const after = (await again.call('device.list', {})).result as { devices: unknown[] };
    expect(after.devices).toEqual(before.devices);
    again.close();
    for (const { client } of sessions) client.close();
    for (let i = 0; i < 9; i++) {
      const response = await fetchFrom('127.0.0.8', `${ingress.url}/v1/models`, { headers: bearer(TOKEN) });
      expect(response.status).toBe(200);
    }
  });
});
