// GATEWAY.md §6 result shapes, key for key, on one gateway; the AUTHENTICATION.md rotation example; and
// "a device token may connect only as node" for every other role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { bearer, fetchFrom } from '../helpers/http.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';
import { pairDevice } from './pairDevice.js';

// AUTHENTICATION.md, "Security Best Practices", byte for byte.
const ROTATION_EXAMPLE = '{"method": "device.token.rotate", "params": {"deviceId": "..."}}';
const TTL_SECONDS = 120;
const DEVICE_TOKEN = /^[A-Za-z0-9_-]{43}$/; // 32 random bytes, base64url
const NOT_LOOPBACK = { 'x-forwarded-for': '203.0.113.80' };

let gateway: GatewayProcess;
let control: RpcClient;
const clients: RpcClient[] = [];
const track = (client: RpcClient) => (clients.push(client), client);

beforeAll(async () => {
  gateway = await startGateway({ env: { OPENCLAW_PAIRING_TTL_SECONDS: String(TTL_SECONDS) } });
  control = track((await connectRpc(gateway.wsUrl, { role: 'control' })).client);
});
afterAll(async () => {
  for (const client of clients) client.close();
  await gateway?.kill();
});

const resultOf = <T = Record<string, unknown>>(response: { result?: unknown; error?: unknown }): T => {
  if (response.result === undefined) throw new Error(`expected a result, got ${JSON.stringify(response.error)}`);
  return response.result as T;
};

describe('§6 pairing, result by result', () => {
  it('request → requested → list → approve → resolved, each exactly as documented', async () => {
    const device = track(await openRpc(gateway.wsUrl, { localAddress: '127.0.6.1' }));
    const before = Date.now();
    const request = resultOf(await device.call('node.pair.request', { displayName: 'Kitchen tablet', platform: 'android', deviceId: 'tablet-1' }));
    expect(Object.keys(request).sort()).toEqual(['claimSecret', 'deviceId', 'expiresAt', 'requestId', 'status']);
    expect(request).toEqual({ requestId: expect.any(String), deviceId: 'tablet-1', status: 'pending', expiresAt: expect.any(Number), claimSecret: expect.any(String) });
    expect(request.expiresAt as number).toBeGreaterThanOrEqual(before + TTL_SECONDS * 1000 - 1_000);
    expect(request.expiresAt as number).toBeLessThanOrEqual(Date.now() + TTL_SECONDS * 1000 + 1_000);

    const requested = await control.waitForNotification('node.pair.requested');
    expect(Object.keys(requested.params as object)).toEqual(['request']);
    expect((requested.params as { request: object }).request).toMatchObject({ requestId: request.requestId, deviceId: 'tablet-1', displayName: 'Kitchen tablet', platform: 'android', status: 'pending' });

    const list = resultOf<{ requests: Array<{ requestId: string }> }>(await control.call('node.pair.list', {}));
    expect(Object.keys(list)).toEqual(['requests']);
    expect(list.requests.map((r) => r.requestId)).toContain(request.requestId);

    const approved = resultOf(await control.call('node.pair.approve', { requestId: request.requestId }));
    expect(approved).toEqual({ deviceId: 'tablet-1', approvedAt: expect.any(Number) });
    expect(JSON.stringify(control.frames)).not.toMatch(/"token"/); // the approver never sees the device token

    const resolved = await device.waitForNotification('node.pair.resolved');
    expect(resolved.params).toEqual({ requestId: request.requestId, status: 'approved', deviceId: 'tablet-1', token: expect.stringMatching(DEVICE_TOKEN) });
    const token = (resolved.params as { token: string }).token;
    const http = await fetchFrom('127.0.6.2', `${gateway.url}/v1/whoami`, { headers: { ...bearer(token), ...NOT_LOOPBACK } });
    expect(await http.json()).toMatchObject({ method: 'device', identity: 'device:tablet-1', role: 'node' });
  });

  it('a request without deviceId or platform gets a deviceId of its own', async () => {
    const device = track(await openRpc(gateway.wsUrl, { localAddress: '127.0.6.3' }));
    const request = resultOf<{ deviceId: string; status: string }>(await device.call('node.pair.request', { displayName: 'Bare' }));
    expect(request.deviceId).toMatch(/\S/);
    expect(request.status).toBe('pending');
  });

  it('reject → {"status":"rejected"}; the requester and a later claim learn it, with no token', async () => {
    const device = track(await openRpc(gateway.wsUrl, { localAddress: '127.0.6.4' }));
    const request = resultOf<{ requestId: string; deviceId: string; claimSecret: string }>(await device.call('node.pair.request', { displayName: 'Rejected' }));
    expect(resultOf(await control.call('node.pair.reject', { requestId: request.requestId }))).toEqual({ status: 'rejected' });
    const expected = { requestId: request.requestId, status: 'rejected', deviceId: request.deviceId };
    expect((await device.waitForNotification('node.pair.resolved')).params).toEqual(expected);
    const claimer = track(await openRpc(gateway.wsUrl, { localAddress: '127.0.6.5' }));
    expect(resultOf(await claimer.call('node.pair.claim', { requestId: request.requestId, claimSecret: request.claimSecret }))).toEqual(expected);
  });

  it('device.list → {"devices":[{deviceId, displayName, platform, createdAt, lastSeenAt}]}', async () => {
    await pairDevice(gateway.wsUrl, control, '127.0.6.6', { deviceId: 'listed', platform: 'ios' });
    const list = resultOf<{ devices: Array<Record<string, unknown>> }>(await control.call('device.list', {}));
    expect(Object.keys(list)).toEqual(['devices']);
    const listed = list.devices.find((d) => d.deviceId === 'listed')!;
    expect(Object.keys(listed).sort()).toEqual(['createdAt', 'deviceId', 'displayName', 'lastSeenAt', 'platform']);
    expect(listed).toMatchObject({ displayName: 'contract device', platform: 'ios', createdAt: expect.any(Number) });
  });
});

describe('AUTHENTICATION.md rotation example', () => {
  it('rotates as a JSON-RPC request: {deviceId, token}; the old token stops working and its session closes 4001', async () => {
    const { deviceId, token: oldToken } = await pairDevice(gateway.wsUrl, control, '127.0.6.7');
    const node = track((await connectRpc(gateway.wsUrl, { role: 'node', auth: { token: oldToken } }, { localAddress: '127.0.6.8' })).client);

    const example = JSON.parse(ROTATION_EXAMPLE.replace('"..."', JSON.stringify(deviceId))) as Record<string, unknown>;
    control.send(JSON.stringify({ jsonrpc: '2.0', id: 'rotate-1', ...example }));
    const rotated = resultOf<{ deviceId: string; token: string }>(await control.waitForResponse('rotate-1'));
    expect(Object.keys(rotated).sort()).toEqual(['deviceId', 'token']);
    expect(rotated.deviceId).toBe(deviceId);
    expect(rotated.token).toMatch(DEVICE_TOKEN);
    expect(rotated.token).not.toBe(oldToken);

    expect((await node.closed).code).toBe(4001);
    const whoami = (token: string, from: string) => fetchFrom(from, `${gateway.url}/v1/whoami`, { headers: { ...bearer(token), ...NOT_LOOPBACK } });
    expect((await whoami(oldToken, '127.0.6.9')).status).toBe(401);
    expect((await whoami(rotated.token, '127.0.6.10')).status).toBe(200);
  });

  it('the example as printed (no "jsonrpc", no "id") is not a JSON-RPC 2.0 request: -32600, nothing rotated', async () => {
    const { deviceId, token } = await pairDevice(gateway.wsUrl, control, '127.0.6.11');
    control.send(ROTATION_EXAMPLE.replace('"..."', JSON.stringify(deviceId)));
    const answer = await control.waitForResponse(null);
    expect(answer.error).toMatchObject({ code: -32600, data: { type: 'invalid_request' } });
    const still = await fetchFrom('127.0.6.12', `${gateway.url}/v1/whoami`, { headers: { ...bearer(token), ...NOT_LOOPBACK } });
    expect(still.status).toBe(200);
  });
});

describe('§3 a device token is "any" authentication for HTTP', () => {
  it('serves /v1/models, /v1/whoami and /v1/chat/completions (503 only for want of an upstream), never 401/403', async () => {
    const { token } = await pairDevice(gateway.wsUrl, control, '127.0.6.30');
    const send = (path: string, body?: string) =>
      fetchFrom('127.0.6.31', `${gateway.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...bearer(token), ...NOT_LOOPBACK, 'content-type': 'application/json' },
        body,
      });
    expect((await send('/v1/models')).status).toBe(200);
    expect(await (await send('/v1/whoami')).json()).toMatchObject({ method: 'device', role: 'node' });
    const chat = await send('/v1/chat/completions', JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'Hello' }] }));
    expect(chat.status).toBe(503);
    expect(await chat.json()).toMatchObject({ error: { type: 'upstream_unavailable' } });
  });
});

describe('§5 a device token may connect only as node', () => {
  it.each(['control', 'webchat'])('as %s: -32003 forbidden, then close 1008', async (role) => {
    const { token } = await pairDevice(gateway.wsUrl, control, `127.0.6.${role === 'control' ? 20 : 21}`);
    const socket = track(await openRpc(gateway.wsUrl, { localAddress: `127.0.6.${role === 'control' ? 22 : 23}` }));
    const refused = await socket.call('connect', { role, auth: { token } });
    expect(refused.error).toMatchObject({ code: -32003, data: { type: 'forbidden' } });
    expect((await socket.closed).code).toBe(1008);
  });
});
