// Redis standalone killed under two replicas and brought back: what keeps working, what fails safe,
// and that everything recovers without restarting the gateways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/httpRequest.js';
import { redisCommand, startRedis, type RedisServer } from '../helpers/redis.js';
import { openRpc, type RpcClient } from '../helpers/wsRpc.js';
import {
  NOT_LOOPBACK,
  controlSession,
  freshAddress,
  pairDevice,
  resultOf,
  status,
  unknownDeviceToken,
  waitUntil,
  whoamiAs,
  type PairedDevice,
} from './fixtures.js';

const TOKEN = 'resilience-down-gateway-token-7c1d';
const MAX_FAILURES = 3;
/** The peer (127.0.0.1) is a trusted proxy, so X-Forwarded-For names the client; NOT_LOOPBACK's IP. */
const DEVICE_CLIENT_IP = NOT_LOOPBACK['x-forwarded-for'];

let redis: RedisServer;
let a: GatewayProcess;
let b: GatewayProcess;
let deny: GatewayProcess;
let controlA: RpcClient;
let cachedEverywhere: PairedDevice;
let cachedOnAOnly: PairedDevice;

function gatewayConfig(onStoreFailure: 'local' | 'deny', keyPrefix: string) {
  return {
    auth: { token: TOKEN, rateLimit: { maxFailures: MAX_FAILURES, windowSeconds: 60, onStoreFailure } },
    trustedProxies: ['127.0.0.1'],
    redis: { url: redis.url, keyPrefix },
  };
}

function asClient(gateway: GatewayProcess, clientIp: string, secret?: string) {
  return httpRequest(`${gateway.url}/v1/whoami`, {
    headers: { 'x-forwarded-for': clientIp, ...(secret === undefined ? {} : { authorization: `Bearer ${secret}` }) },
  });
}

beforeAll(async () => {
  // AOF with fsync on every write, so the restarted server still holds the paired devices.
  redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  [a, b, deny] = await Promise.all([
    startGateway({ config: gatewayConfig('local', 'down:'), env: { OPENCLAW_REPLICA_ID: 'down-a' } }),
    startGateway({ config: gatewayConfig('local', 'down:'), env: { OPENCLAW_REPLICA_ID: 'down-b' } }),
    startGateway({ config: gatewayConfig('deny', 'deny:'), env: { OPENCLAW_REPLICA_ID: 'down-deny' } }),
  ]);
  controlA = await controlSession(a);
  cachedEverywhere = await pairDevice(a, controlA);
  cachedOnAOnly = await pairDevice(a, controlA);
  // Warm the device-token caches: the first device on both replicas, the second on A only.
  for (const [replica, device] of [[a, cachedEverywhere], [b, cachedEverywhere], [a, cachedOnAOnly]] as const) {
    expect((await whoamiAs(replica, device.token)).status).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  controlA?.close();
  await Promise.all([a, b, deny].map((gateway) => gateway?.kill()));
  await redis?.stop();
});

describe('Redis down', () => {
  it('keeps the process healthy and reports not ready', async () => {
    await redis.kill();
    for (const replica of [a, b]) {
      await waitUntil('/readyz 503', 5_000, async () => (await status(replica.url, '/readyz')) === 503);
      expect(await status(replica.url, '/healthz')).toBe(200);
      const ready = await httpRequest(`${replica.url}/readyz`);
      expect(ready.json()).toMatchObject({ status: 'unavailable' });
    }
  });

  it('serves a device token this replica cached, and answers 503 unavailable for tokens it cannot check', async () => {
    for (const replica of [a, b]) {
      const response = await whoamiAs(replica, cachedEverywhere.token);
      expect(response.status).toBe(200);
      expect(response.json()).toMatchObject({ method: 'device', identity: `device:${cachedEverywhere.deviceId}` });
    }
    // Valid in Redis, but B never looked it up: B cannot tell, so it refuses without blaming the client.
    const uncached = await whoamiAs(b, cachedOnAOnly.token);
    expect(uncached.status).toBe(503);
    expect(uncached.json()).toMatchObject({ error: { type: 'unavailable' } });

    // Unknown tokens: never accepted, never a 401 (which would count a failure), never 429 however many.
    for (let attempt = 0; attempt < MAX_FAILURES * 2; attempt++) {
      const response = await whoamiAs(a, unknownDeviceToken(attempt));
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toMatchObject({ error: { type: 'unavailable' } });
    }
    await a.waitForLog((entry) => entry.msg === 'auth unavailable');
  });

  it('keeps the gateway token working (no store involved)', async () => {
    for (const replica of [a, b]) expect((await asClient(replica, '203.0.113.20', TOKEN)).status).toBe(200);
  });

  it('answers WebSocket connect the same way: cached device token in, unknown token -32007', async () => {
    const cached = await openRpc(b.wsUrl, { localAddress: freshAddress() });
    const connected = await cached.call('connect', { role: 'node', auth: { token: cachedEverywhere.token } });
    expect(connected.result).toMatchObject({ auth: { method: 'device' } });
    cached.close();

    const unknown = await openRpc(b.wsUrl, { localAddress: freshAddress() });
    const refused = await unknown.call('connect', { role: 'node', auth: { token: unknownDeviceToken(99) } });
    expect(refused.error).toMatchObject({ code: -32007, data: { type: 'unavailable' } });
    expect((await unknown.closed).code).toBe(1008);
  });

  it('answers pairing and device administration with -32007 unavailable', async () => {
    const device = await openRpc(b.wsUrl, { localAddress: freshAddress() });
    const request = await device.call('node.pair.request', { displayName: 'during outage' });
    expect(request.error).toMatchObject({ code: -32007, data: { type: 'unavailable' } });
    device.close();
    for (const [method, params] of [
      ['node.pair.list', {}],
      ['node.pair.approve', { requestId: 'd6f0d7b0-0000-4000-8000-000000000000' }],
      ['device.list', {}],
      ['device.token.rotate', { deviceId: cachedEverywhere.deviceId }],
      ['device.token.revoke', { deviceId: cachedEverywhere.deviceId }],
    ] as const) {
      const answer = await controlA.call(method, params);
      expect(answer.error, method).toMatchObject({ code: -32007, data: { type: 'unavailable' } });
    }
  });

  it('limits failed authentication per replica with onStoreFailure=local, and answers 503 with deny', async () => {
    const clientIp = '203.0.113.30';
    for (let failure = 1; failure <= MAX_FAILURES; failure++) expect((await asClient(a, clientIp, 'wrong')).status).toBe(401);
    const blocked = await asClient(a, clientIp, TOKEN);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // B counts on its own: A's local failures do not block the IP there.
    expect((await asClient(b, clientIp, 'wrong')).status).toBe(401);
    expect((await asClient(b, clientIp, TOKEN)).status).toBe(200);

    const denied = await asClient(deny, clientIp, 'wrong');
    expect(denied.status).toBe(503);
    expect(denied.json()).toMatchObject({ error: { type: 'unavailable' } });
    expect((await asClient(deny, clientIp, TOKEN)).status).toBe(200);
  });
});

describe('Redis back', () => {
  it('recovers without restarting the gateways', async () => {
    const restartedAt = Date.now();
    await redis.restart();
    await Promise.all(
      [a, b, deny].map((replica) => waitUntil('/readyz 200', 15_000, async () => (await status(replica.url, '/readyz')) === 200)),
    );
    const recoveryMs = Date.now() - restartedAt;
    console.info(`[resilience] redis restart -> all replicas ready in ${recoveryMs} ms`);
    expect(recoveryMs).toBeLessThan(10_000);

    // The device B could not check is checked now; the outage's unknown tokens counted no failure.
    expect((await whoamiAs(b, cachedOnAOnly.token)).status).toBe(200);
    expect(await redisCommand(redis, ['GET', `down:authfail:${DEVICE_CLIENT_IP}`])).toBeNull();
    expect((await whoamiAs(b, unknownDeviceToken(1))).status).toBe(401);
    expect(await redisCommand(redis, ['GET', `down:authfail:${DEVICE_CLIENT_IP}`])).toBe('1');

    // Pairing works again, across replicas, with the same control session.
    const paired = await pairDevice(b, controlA, a);
    expect((await whoamiAs(b, paired.token)).status).toBe(200);
    const { devices } = resultOf<{ devices: Array<{ deviceId: string }> }>(await controlA.call('device.list', {}));
    expect(devices.map((d) => d.deviceId)).toEqual(
      expect.arrayContaining([cachedEverywhere.deviceId, cachedOnAOnly.deviceId, paired.deviceId]),
    );
    await Promise.all([a, b, deny].map((replica) => replica.settled()));
    const output = [a, b, deny].flatMap((replica) => replica.lines).join('\n');
    for (const secret of [TOKEN, cachedEverywhere.token, cachedOnAOnly.token, paired.token]) expect(output).not.toContain(secret);
  });
});
