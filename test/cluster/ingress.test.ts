// Three replicas on one Redis behind nginx: the deployment shape of the Helm chart, on one machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { bearer, fetchFrom } from '../helpers/http.js';
import { startIngress, type Ingress } from '../helpers/nginx.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const TOKEN = 'ingress-test-token-0123456789';
const RATE_LIMITED = {
  error: { message: 'Too many failed authentication attempts. Please try again later.', type: 'rate_limited' },
};

let redis: RedisServer;
let replicas: GatewayProcess[] = [];
let ingress: Ingress;

beforeAll(async () => {
  redis = await startRedis();
  replicas = await Promise.all(
    [1, 2, 3].map((n) =>
      startGateway({
        env: {
          OPENCLAW_REDIS_URL: redis.url,
          OPENCLAW_GATEWAY_TOKEN: TOKEN,
          OPENCLAW_GATEWAY_TRUSTED_PROXIES: '127.0.0.1/32',
          OPENCLAW_REPLICA_ID: `replica-${n}`,
        },
      }),
    ),
  );
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

  it('keeps serving when a replica dies', async () => {
    await replicas[2]!.kill();
    for (let i = 0; i < 9; i++) {
      const response = await fetchFrom('127.0.0.8', `${ingress.url}/v1/models`, { headers: bearer(TOKEN) });
      expect(response.status).toBe(200);
    }
  });
});
