import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { startRedis } from '../helpers/redis.js';
import { startUpstream } from '../helpers/upstream.js';

const started: GatewayProcess[] = [];
async function gateway(options: Parameters<typeof startGateway>[0] = {}): Promise<GatewayProcess> {
  const gw = await startGateway(options);
  started.push(gw);
  return gw;
}
afterAll(async () => {
  await Promise.all(started.map((gw) => gw.kill()));
});

async function reachable(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

const readyStatus = async (url: string) => (await fetch(`${url}/readyz`)).status;

describe('HTTP server', () => {
  it('binds loopback to both 127.0.0.1 and ::1 by default', async () => {
    const gw = await gateway();
    for (const host of ['127.0.0.1', '[::1]']) {
      const response = await fetch(`http://${host}:${gw.port}/healthz`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(await response.json()).toEqual({ status: 'ok' });
    }
    expect(await reachable(`http://127.0.0.2:${gw.port}/healthz`)).toBe(false);
    const listening = gw.logs().find((entry) => entry.msg === 'gateway listening');
    expect(listening?.addresses).toEqual([`127.0.0.1:${gw.port}`, `[::1]:${gw.port}`]);
    expect(typeof listening?.replicaId).toBe('string');
  });

  it('binds an IP literal and nothing else', async () => {
    const gw = await gateway({ env: { OPENCLAW_GATEWAY_BIND: '127.0.0.3' } });
    expect(await reachable(`http://127.0.0.3:${gw.port}/healthz`)).toBe(true);
    expect(await reachable(`http://127.0.0.1:${gw.port}/healthz`)).toBe(false);
  });

  it('binds all interfaces in lan mode (auth required)', async () => {
    const gw = await gateway({ args: ['--bind', 'lan'], env: { OPENCLAW_GATEWAY_TOKEN: 'lan-test-token' } });
    expect(await reachable(`http://127.0.0.1:${gw.port}/healthz`)).toBe(true);
    expect(await reachable(`http://127.0.0.4:${gw.port}/healthz`)).toBe(true);
  });

  it('answers unknown routes with the JSON error shape and no stack trace', async () => {
    const gw = await gateway();
    const response = await fetch(`${gw.url}/no/such/route?x=1`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('not_found');
    expect(Object.keys(body)).toEqual(['error']);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.js|stack/);
  });

  it('answers malformed JSON with 400 and oversized bodies with 413, in the JSON error shape', async () => {
    const gw = await gateway({ env: { OPENCLAW_HTTP_BODY_LIMIT_BYTES: '1024' } });
    const post = (body: string) =>
      fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const malformed = await post('{"model": "openclaw", "messages": [');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { type: string } }).error.type).toBe('invalid_request');
    const huge = await post(JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'x'.repeat(4096) }] }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toEqual({ error: { message: expect.any(String), type: 'payload_too_large' } });
  });

  it('refuses to start when the port is taken, with one clear line', async () => {
    const gw = await gateway();
    const result = await runCli(['gateway', '--port', String(gw.port)], { env: { OPENCLAW_STATE_DIR: gw.stateDir } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(String(gw.port));
    expect(result.stderr.toLowerCase()).toContain('in use');
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM: not ready for drainSeconds while still serving, then exits 0', async () => {
    const gw = await startGateway({ drainSeconds: 2 });
    expect(await readyStatus(gw.url)).toBe(200);
    const stoppedAt = Date.now();
    gw.child.kill('SIGTERM');
    await gw.waitForLog((entry) => entry.msg === 'gateway draining');
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'draining' });
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect(await gw.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(1_900);
    expect(gw.logs().some((entry) => entry.msg === 'gateway stopped')).toBe(true);
    expect(await reachable(`${gw.url}/healthz`)).toBe(false);
  });

  it('lets an in-flight request finish before exiting', async () => {
    const upstream = await startUpstream();
    try {
      const gw = await startGateway({ drainSeconds: 1, env: { OPENCLAW_UPSTREAM_URL: upstream.url } });
      upstream.next({ delayMs: 2_500 });
      const inFlight = fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'Hello' }] }),
      });
      await upstream.waitForRequests(1);
      gw.child.kill('SIGTERM');
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(((await response.json()) as { object: string }).object).toBe('chat.completion');
      expect(await gw.exited).toBe(0);
    } finally {
      await upstream.close();
    }
  });

  it('SIGINT exits 0 too', async () => {
    const gw = await startGateway();
    expect(await gw.stop('SIGINT')).toBe(0);
  });
});

describe('readiness follows Redis', () => {
  it('is 503 while the configured Redis is unreachable and recovers without a restart', async () => {
    const redis = await startRedis();
    try {
      const gw = await gateway({ env: { OPENCLAW_REDIS_URL: redis.url } });
      await eventually(async () => (await readyStatus(gw.url)) === 200, 10_000);
      await redis.kill();
      await eventually(async () => (await readyStatus(gw.url)) === 503, 10_000);
      const body = (await (await fetch(`${gw.url}/readyz`)).json()) as { reason: string };
      expect(body.reason).toMatch(/unreachable/);
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
      await redis.restart();
      await eventually(async () => (await readyStatus(gw.url)) === 200, 15_000);
    } finally {
      await redis.stop();
    }
  });

  it('starts with Redis down, serves /healthz, and becomes ready when Redis appears', async () => {
    const port = await freePort();
    const gw = await gateway({ env: { OPENCLAW_REDIS_URL: `redis://127.0.0.1:${port}` }, timeoutMs: 30_000 });
    expect(await readyStatus(gw.url)).toBe(503);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const redis = await startRedis({ port });
    try {
      await eventually(async () => (await readyStatus(gw.url)) === 200, 15_000);
    } finally {
      await redis.stop();
    }
  });
});

describe('openclaw status', () => {
  it('reports version, replica id, bind, port, auth methods and store', async () => {
    const gw = await gateway({ env: { OPENCLAW_REPLICA_ID: 'replica-under-test' } });
    const result = await runCli(['status', '--url', gw.url]);
    expect(result.code, result.stderr).toBe(0);
    for (const text of ['replica-under-test', 'loopback', String(gw.port), 'embedded', 'version']) {
      expect(result.stdout).toContain(text);
    }
    const viaEnv = await runCli(['status'], { env: { OPENCLAW_GATEWAY_URL: gw.url } });
    expect(viaEnv.code).toBe(0);
    const json = await runCli(['status', '--url', gw.url, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ replicaId: 'replica-under-test', store: 'embedded', ready: true });
  });

  it('exits 1 with "connection refused" when nothing listens', async () => {
    const port = await freePort();
    const result = await runCli(['status'], { env: { OPENCLAW_GATEWAY_URL: `http://127.0.0.1:${port}` } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`Gateway not reachable at http://127.0.0.1:${port}: connection refused`);
  });
});
