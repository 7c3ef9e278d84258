import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';
import { CONTROL_CONNECT_EXAMPLE, NODE_CONNECT_EXAMPLE } from '../helpers/specExamples.js';

const TOKEN = 'your-token-here';
const PASSWORD = 'correct horse battery staple';

let gw: GatewayProcess;
const clients: RpcClient[] = [];
const track = <T extends { client: RpcClient } | RpcClient>(value: T): T => {
  clients.push('client' in value ? value.client : value);
  return value;
};

beforeAll(async () => {
  gw = await startGateway({
    config: { auth: { token: TOKEN, password: PASSWORD, rateLimit: { maxFailures: 3, windowSeconds: 60 } } },
  });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await gw?.kill();
});

/** HTTP status of a GET sent from a chosen loopback source address (node:http honours localAddress). */
function statusFrom(localAddress: string, port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, localAddress, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

const control = async () => track(await connectRpc(gw.wsUrl, { role: 'control' })).client;

describe('WebSocket connect', () => {
  it('accepts the control connect example of AUTHENTICATION.md byte for byte', async () => {
    const client = track(await openRpc(gw.wsUrl));
    client.send(CONTROL_CONNECT_EXAMPLE);
    const response = await client.waitForResponse(1);
    expect(Object.keys(response).sort()).toEqual(['id', 'jsonrpc', 'result']);
    const result = response.result as Record<string, unknown>;
    expect(Object.keys(result)).toEqual(['sessionId', 'role', 'auth', 'server']);
    expect(result).toEqual({
      sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      role: 'control',
      auth: { method: 'token', identity: 'token' },
      server: { name: 'openclaw-gateway', version: expect.any(String), replicaId: expect.any(String) },
    });
    expect(Object.keys(result.server as object)).toEqual(['name', 'version', 'replicaId']);
    const status = await client.call('status');
    expect(status.result).toMatchObject({ replicaId: (result.server as { replicaId: string }).replicaId, ready: true });
  });

  it('accepts the node connect example (token in place of a device token)', async () => {
    // TODO(pairing): run this with a real device token once node.pair.* is wired, expecting auth.method "device".
    const client = track(await openRpc(gw.wsUrl));
    client.send(NODE_CONNECT_EXAMPLE.replace('device-token-here', TOKEN));
    const response = await client.waitForResponse(1);
    expect(response.result).toMatchObject({ role: 'node', auth: { method: 'token', identity: 'token' } });
  });

  it('checks auth.token as the password too, and never answers it with loopback', async () => {
    const { result } = track(await connectRpc(gw.wsUrl, { role: 'webchat', auth: { token: PASSWORD } }));
    expect(result).toMatchObject({ role: 'webchat', auth: { method: 'password', identity: 'password' } });
  });

  it('without auth.token takes the identity of the upgrade request: loopback, or its Authorization header', async () => {
    const local = track(await connectRpc(gw.wsUrl, { role: 'control' }));
    expect(local.result).toMatchObject({ auth: { method: 'loopback', identity: 'local' } });
    // a forwarding header disqualifies loopback, so the bearer of the upgrade request decides
    const headers = { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${TOKEN}` };
    const viaHeader = track(await connectRpc(gw.wsUrl, { role: 'control' }, { headers }));
    expect(viaHeader.result).toMatchObject({ auth: { method: 'token', identity: 'token' } });
  });

  it('answers a wrong token with -32001, then closes 1008', async () => {
    const client = track(await openRpc(gw.wsUrl, { localAddress: '127.0.0.3' }));
    const response = await client.call('connect', { role: 'control', auth: { token: 'wrong' } });
    expect(response.error).toMatchObject({ code: -32001, data: { type: 'unauthorized' } });
    expect((await client.closed).code).toBe(1008);
    await gw.waitForLog((entry) => entry.msg === 'auth failed' && entry.clientIp === '127.0.0.3' && entry.transport === 'ws');
  });

  it('shares the failed-auth limiter: -32002 with data.retryAfter, then close 1008, for the right token too', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const client = track(await openRpc(gw.wsUrl, { localAddress: '127.0.0.5' }));
      expect((await client.call('connect', { role: 'control', auth: { token: 'wrong' } })).error?.code).toBe(-32001);
    }
    const client = track(await openRpc(gw.wsUrl, { localAddress: '127.0.0.5' }));
    const response = await client.call('connect', { role: 'control', auth: { token: TOKEN } });
    expect(response.error).toEqual({
      code: -32002,
      message: 'Too many failed authentication attempts. Please try again later.',
      data: { type: 'rate_limited', retryAfter: expect.any(Number) },
    });
    expect(response.error!.data.retryAfter).toBeGreaterThanOrEqual(1);
    expect((await client.closed).code).toBe(1008);
    // the HTTP face sees the same block (a forwarding header keeps loopback out of it; the peer is untrusted)
    const headers = { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '203.0.113.50' };
    expect(await statusFrom('127.0.0.5', gw.port, '/v1/status', headers)).toBe(429);
  });

  it('answers a second connect with -32006 and keeps the session', async () => {
    const client = await control();
    const again = await client.call('connect', { role: 'control' });
    expect(again.error).toMatchObject({ code: -32006, data: { type: 'conflict' } });
    expect((await client.call('status')).result).toMatchObject({ ready: true });
  });

  it('refuses connect params it does not understand with -32602, then closes 1008', async () => {
    const client = track(await openRpc(gw.wsUrl));
    const response = await client.call('connect', { role: 'admin' });
    expect(response.error).toMatchObject({ code: -32602, data: { type: 'invalid_request' } });
    expect((await client.closed).code).toBe(1008);
  });
});

describe('JSON-RPC errors', () => {
  it('-32004 for any method but pairing before connect, without closing', async () => {
    const client = track(await openRpc(gw.wsUrl));
    expect((await client.call('status')).error).toMatchObject({ code: -32004, data: { type: 'not_connected' } });
    expect((await client.call('logs.tail')).error).toMatchObject({ code: -32004 });
    expect((await client.call('connect', { role: 'control' })).result).toBeDefined();
  });

  it('-32700 for a frame that is not JSON, with id null', async () => {
    const client = await control();
    client.send('{"jsonrpc":"2.0","id":5,');
    const response = await client.waitForResponse(null);
    expect(response.error).toMatchObject({ code: -32700, data: { type: 'parse_error' } });
  });

  it('-32600 for JSON that is not a request', async () => {
    const client = await control();
    client.send('{"jsonrpc":"1.0","id":"x","method":"status"}');
    expect((await client.waitForResponse('x')).error).toMatchObject({ code: -32600, data: { type: 'invalid_request' } });
    client.send('[{"jsonrpc":"2.0","id":"y","method":"status"}]');
    expect((await client.waitForResponse(null)).error).toMatchObject({ code: -32600 });
  });

  it('-32601 for an unknown method', async () => {
    const client = await control();
    expect((await client.call('no.such.method')).error).toMatchObject({ code: -32601, data: { type: 'method_not_found' } });
  });

  it('-32602 for bad params', async () => {
    const client = await control();
    expect((await client.call('logs.tail', { lines: -1 })).error).toMatchObject({ code: -32602, data: { type: 'invalid_request' } });
    expect((await client.call('logs.tail', [1, 2])).error).toMatchObject({ code: -32602 });
  });

  it('does not answer client notifications (no id)', async () => {
    const client = await control();
    client.send('{"jsonrpc":"2.0","method":"status"}');
    const after = await client.call('status');
    expect(after.result).toBeDefined();
    expect(client.frames.filter((frame) => (frame as { id?: unknown }).id === undefined)).toEqual([]);
  });
});

describe('roles', () => {
  it('node and webchat may call status but not logs.tail (-32003)', async () => {
    for (const role of ['node', 'webchat']) {
      const client = track(await connectRpc(gw.wsUrl, { role })).client;
      expect((await client.call('status')).result).toMatchObject({ ready: true });
      expect((await client.call('logs.tail')).error).toMatchObject({ code: -32003, data: { type: 'forbidden' } });
    }
  });
});

describe('logs.tail', () => {
  it('returns the newest log lines as logged, and follows with logs.line notifications', async () => {
    const client = await control();
    const tail = await client.call('logs.tail', { lines: 5 });
    const { lines, follow } = tail.result as { lines: string[]; follow: boolean };
    expect(follow).toBe(false);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ msg: 'ws session connected' });

    const following = await control();
    expect((await following.call('logs.tail', { lines: 0, follow: true })).result).toEqual({ lines: [], follow: true });
    expect((await following.call('logs.tail', { follow: true })).error).toMatchObject({ code: -32006 });
    await control(); // logs "ws session connected"
    const line = await following.waitForNotification('logs.line', (params) => (params as { line: string }).line.includes('ws session connected'));
    expect(JSON.parse((line.params as { line: string }).line)).toMatchObject({ msg: 'ws session connected' });
    following.close();
    await following.closed;
  });

  it('-32007 once the log ring has no room for another follower', async () => {
    const followers: RpcClient[] = [];
    // spread over source addresses: one address may hold only gateway.ws.maxConnectionsPerIp (64) sockets
    for (let index = 0; index < 64; index += 1) {
      const localAddress = `127.0.0.${10 + (index % 4)}`;
      followers.push(track(await connectRpc(gw.wsUrl, { role: 'control' }, { localAddress })).client);
    }
    const answers = await Promise.all(followers.map((client) => client.call('logs.tail', { lines: 0, follow: true })));
    expect(answers.filter((answer) => answer.error)).toEqual([]);
    const extra = await control();
    expect((await extra.call('logs.tail', { lines: 0, follow: true })).error).toMatchObject({ code: -32007, data: { type: 'unavailable' } });
    for (const client of followers) client.close();
  });
});
