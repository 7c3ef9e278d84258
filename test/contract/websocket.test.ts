// GATEWAY.md §5 where the integration suites leave a sentence unshown: optional `client` and `auth`, the role
// table method by method, the shape of server notifications, ?token= on the upgrade, and data.type on every
// error this suite provokes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { bearer } from '../helpers/http.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';

const TOKEN = 'contract-ws-token-27c4d0';
const METHODS_AND_PARAMS: Array<[string, unknown]> = [
  ['status', {}],
  ['logs.tail', { lines: 1 }],
  ['chat.completions', { model: 'openclaw', messages: [{ role: 'user', content: 'Hello' }] }],
  ['node.pair.list', {}],
  ['node.pair.approve', { requestId: 'no-such-request' }],
  ['node.pair.reject', { requestId: 'no-such-request' }],
  ['device.list', {}],
  ['device.token.rotate', { deviceId: 'no-such-device' }],
  ['device.token.revoke', { deviceId: 'no-such-device' }],
];
// §5 Roles. A loopback `node` session has no device of its own, so it may rotate none.
const ALLOWED: Record<string, string[]> = {
  control: METHODS_AND_PARAMS.map(([method]) => method),
  webchat: ['status', 'chat.completions'],
  node: ['status'],
};

let gateway: GatewayProcess;
const clients: RpcClient[] = [];
const track = (client: RpcClient) => (clients.push(client), client);

beforeAll(async () => {
  gateway = await startGateway({ env: { OPENCLAW_GATEWAY_TOKEN: TOKEN } });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await gateway?.kill();
});

describe('connect params', () => {
  it('`client` is optional, and so are `auth` and `auth.token`', async () => {
    for (const params of [{ role: 'control' }, { role: 'control', auth: {} }, { role: 'webchat', auth: {}, client: { name: 'n', version: '1' } }]) {
      const { client, result } = await connectRpc(gateway.wsUrl, params);
      track(client);
      expect(result).toMatchObject({ role: params.role, auth: { method: 'loopback', identity: 'local' } });
    }
    const { client, result } = await connectRpc(gateway.wsUrl, { role: 'node', auth: { token: TOKEN } }, { localAddress: '127.0.7.1' });
    track(client);
    expect(result).toMatchObject({ role: 'node', auth: { method: 'token' } });
  });
});

describe('roles', () => {
  it.each(Object.keys(ALLOWED))('%s: -32003 forbidden exactly for the methods its role may not call', async (role) => {
    const client = track((await connectRpc(gateway.wsUrl, { role })).client);
    for (const [method, params] of METHODS_AND_PARAMS) {
      const response = await client.call(method, params);
      if (ALLOWED[role]!.includes(method)) expect(response.error?.code, `${role} ${method}`).not.toBe(-32003);
      else expect(response.error, `${role} ${method}`).toMatchObject({ code: -32003, data: { type: 'forbidden' } });
    }
  });
});

describe('notifications', () => {
  it('carry method and params and no id', async () => {
    const control = track((await connectRpc(gateway.wsUrl, { role: 'control' })).client);
    const posted = await fetch(`${gateway.url}/hooks/contract.ws`, {
      method: 'POST',
      headers: { ...bearer(TOKEN), 'content-type': 'application/json' },
      body: '{"n":1}',
    });
    expect(posted.status).toBe(202);
    const device = track(await openRpc(gateway.wsUrl, { localAddress: '127.0.7.2' }));
    expect((await device.call('node.pair.request', { displayName: 'notified' })).result).toBeDefined();
    await control.waitForNotification('hook');
    await control.waitForNotification('node.pair.requested');
    const notifications = control.frames.filter((frame) => (frame as { method?: string }).method !== undefined);
    expect(notifications.length).toBeGreaterThanOrEqual(2);
    for (const frame of notifications) expect(Object.keys(frame as object).sort()).toEqual(['jsonrpc', 'method', 'params']);
  });
});

describe('the upgrade request', () => {
  it('is refused with 400 when it carries ?token= (a secret in the query string), even a correct one', async () => {
    await expect(openRpc(`${gateway.wsUrl}?token=${TOKEN}`)).rejects.toThrow(/HTTP 400/);
    const response = await fetch(`${gateway.url}/?token=${TOKEN}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request' } });
  });
});

describe('every error has data.type', () => {
  it('in every error frame this suite received', () => {
    const errors = clients.flatMap((client) => client.frames).filter((frame) => (frame as { error?: unknown }).error !== undefined);
    expect(errors.length).toBeGreaterThan(10);
    for (const frame of errors) {
      const { error } = frame as { error: { code: number; message: string; data: { type: string } } };
      expect(error.data.type, JSON.stringify(frame)).toMatch(/^[a-z_]+$/);
      expect(typeof error.message).toBe('string');
    }
  });
});
