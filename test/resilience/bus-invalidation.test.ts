// Replica B is cut off from Redis (only its pub/sub connection, then everything) while devices are
// revoked and rotated through replica A. The invalidations B misses must never let a revoked or
// replaced token in once B can reach Redis again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import type { RpcClient } from '../helpers/wsRpc.js';
import { controlSession, pairDevice, resultOf, status, waitUntil, whoamiAs, type PairedDevice } from './fixtures.js';
import { startTcpProxy, type TcpProxy } from './TcpProxy.js';

const TOKEN = 'resilience-bus-gateway-token-5e2a';
const busSubscriberOfB = (firstBytes: string) => firstBytes.includes('openclaw-bus-sub:bus-b');

let redis: RedisServer;
let proxy: TcpProxy;
let a: GatewayProcess;
let b: GatewayProcess;
let controlA: RpcClient;

beforeAll(async () => {
  redis = await startRedis();
  proxy = await startTcpProxy(redis);
  // The suite sends many refused tokens from one client IP on purpose: keep the limiter out of the way.
  const config = { auth: { token: TOKEN, rateLimit: { maxFailures: 100_000 } }, redis: { keyPrefix: 'bus:' } };
  [a, b] = await Promise.all([
    startGateway({ config, env: { OPENCLAW_REDIS_URL: redis.url, OPENCLAW_REPLICA_ID: 'bus-a' } }),
    startGateway({ config, env: { OPENCLAW_REDIS_URL: proxy.url, OPENCLAW_REPLICA_ID: 'bus-b' } }),
  ]);
  controlA = await controlSession(a);
}, 60_000);

afterAll(async () => {
  controlA?.close();
  await Promise.all([a?.kill(), b?.kill()]);
  await proxy?.close();
  await redis?.stop();
});

/** Pairs two devices through A and makes B cache both tokens. */
async function twoDevicesCachedOnB(): Promise<[PairedDevice, PairedDevice]> {
  const revoked = await pairDevice(a, controlA);
  const rotated = await pairDevice(a, controlA);
  for (const device of [revoked, rotated]) expect((await whoamiAs(b, device.token)).status).toBe(200);
  return [revoked, rotated];
}

/** Revoke one device and rotate the other through A; returns the rotated device's new token. */
async function revokeAndRotateOnA(revoked: PairedDevice, rotated: PairedDevice): Promise<string> {
  resultOf(await controlA.call('device.token.revoke', { deviceId: revoked.deviceId }));
  const { token } = resultOf<{ token: string }>(await controlA.call('device.token.rotate', { deviceId: rotated.deviceId }));
  for (const stale of [revoked.token, rotated.token]) expect((await whoamiAs(a, stale)).status).toBe(401);
  expect((await whoamiAs(a, token)).status).toBe(200);
  return token;
}

describe('missed invalidations', () => {
  it('B cut off from pub/sub only: checks the store instead of its cache, so a revoked token never works', async () => {
    const [revoked, rotated] = await twoDevicesCachedOnB();
    proxy.cut(busSubscriberOfB);
    await waitUntil('B not ready (bus down)', 5_000, async () => (await status(b.url, '/readyz')) === 503);

    const newToken = await revokeAndRotateOnA(revoked, rotated);
    // B missed both invalidations but can still read Redis.
    expect((await whoamiAs(b, revoked.token)).status).toBe(401);
    expect((await whoamiAs(b, rotated.token)).status).toBe(401);
    expect((await whoamiAs(b, newToken)).status).toBe(200);

    proxy.heal();
    await waitUntil('B ready again', 10_000, async () => (await status(b.url, '/readyz')) === 200);
    for (const stale of [revoked.token, rotated.token]) expect((await whoamiAs(b, stale)).status).toBe(401);
    expect((await whoamiAs(b, newToken)).status).toBe(200);
  });

  it('B subscription silently dead (no socket error): B notices within seconds and stops trusting its cache', async () => {
    const [revoked, rotated] = await twoDevicesCachedOnB();
    proxy.freeze(busSubscriberOfB);
    const frozenAt = Date.now();
    const newToken = await revokeAndRotateOnA(revoked, rotated);
    await waitUntil('B not ready (heartbeat echo lost)', 10_000, async () => (await status(b.url, '/readyz')) === 503, 100);
    const detectedMs = Date.now() - frozenAt;
    console.info(`[resilience] silent bus partition detected after ${detectedMs} ms`);
    expect(detectedMs).toBeLessThan(8_000);
    expect((await whoamiAs(b, revoked.token)).status).toBe(401);
    expect((await whoamiAs(b, rotated.token)).status).toBe(401);
    expect((await whoamiAs(b, newToken)).status).toBe(200);

    proxy.heal();
    await waitUntil('B ready again', 10_000, async () => (await status(b.url, '/readyz')) === 200);
    for (const stale of [revoked.token, rotated.token]) expect((await whoamiAs(b, stale)).status).toBe(401);
  });

  it('B cut off from Redis entirely: cached tokens ride out the cut, and none of the stale ones work once B reconnects', async () => {
    const [revoked, rotated] = await twoDevicesCachedOnB();
    proxy.cut();
    await waitUntil('B not ready (Redis unreachable)', 5_000, async () => (await status(b.url, '/readyz')) === 503);

    const newToken = await revokeAndRotateOnA(revoked, rotated);
    // The documented trade-off while B cannot reach Redis at all: it serves what it confirmed in the
    // last 5 minutes, and refuses (503) what it cannot check.
    expect((await whoamiAs(b, revoked.token)).status).toBe(200);
    const unchecked = await whoamiAs(b, newToken);
    expect(unchecked.status).toBe(503);
    expect(unchecked.json()).toMatchObject({ error: { type: 'unavailable' } });

    // From the moment B reaches Redis again (any request not answered from the stale cache), the
    // revoked and replaced tokens must never be accepted, while the new token is.
    proxy.heal();
    const healedAt = Date.now();
    let reconnected = false;
    const seen: number[] = [];
    while (Date.now() - healedAt < 4_000) {
      // Sequential: the stale tokens are tried only after B answered a store lookup in this round.
      if ((await whoamiAs(b, newToken)).status === 200) reconnected = true;
      if (reconnected) for (const stale of [revoked.token, rotated.token]) seen.push((await whoamiAs(b, stale)).status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(reconnected).toBe(true);
    expect(new Set(seen)).toEqual(new Set([401]));
    expect(await status(b.url, '/readyz')).toBe(200);
  });
});
