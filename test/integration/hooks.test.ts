// POST /hooks/:name on one gateway: who may post, what is accepted, and the `hook` notification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { bearer } from '../helpers/http.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';

const TOKEN = 'hook-token-0123456789abcdef0123456789abcdef';
// Any forwarding header disables the loopback bypass, so these requests must bring a credential.
const NOT_LOOPBACK = { 'x-forwarded-for': '203.0.113.30' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let gateway: GatewayProcess;
let control: RpcClient;
let webchat: RpcClient;
const clients: RpcClient[] = [];

beforeAll(async () => {
  gateway = await startGateway({ env: { OPENCLAW_GATEWAY_TOKEN: TOKEN } });
  control = (await connectRpc(gateway.wsUrl, { role: 'control', auth: { token: TOKEN } })).client;
  webchat = (await connectRpc(gateway.wsUrl, { role: 'webchat', auth: { token: TOKEN } })).client;
  clients.push(control, webchat);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await gateway?.stop();
});

function postHook(name: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.url}/hooks/${name}`, {
    method: 'POST',
    headers: { ...bearer(TOKEN), 'content-type': 'application/json', ...NOT_LOOPBACK, ...headers },
    body,
  });
}

interface HookParams {
  name: string;
  id: string;
  payload: unknown;
  receivedAt: number;
}

describe('POST /hooks/:name', () => {
  it('answers 202 {"ok":true,"id"} and pushes the payload to control sessions only', async () => {
    const before = Date.now();
    const response = await postHook('deploy.done', JSON.stringify({ service: 'api', version: 42 }));
    expect(response.status).toBe(202);
    const body = (await response.json()) as { ok: boolean; id: string };
    expect(body).toEqual({ ok: true, id: expect.stringMatching(UUID) });

    const notification = await control.waitForNotification('hook', (params) => (params as HookParams).id === body.id);
    const params = notification.params as HookParams;
    expect(params).toEqual({ name: 'deploy.done', id: body.id, payload: { service: 'api', version: 42 }, receivedAt: expect.any(Number) });
    expect(params.receivedAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(params.receivedAt).toBeLessThanOrEqual(Date.now() + 1_000);

    // A status round trip on the webchat session orders it after the notification would have arrived.
    await webchat.call('status');
    expect(webchat.notifications.filter((n) => n.method === 'hook')).toEqual([]);
  });

  it('accepts X-OpenClaw-Token, loopback, and non-JSON bodies as text', async () => {
    const viaHeader = await fetch(`${gateway.url}/hooks/plain`, {
      method: 'POST',
      headers: { 'x-openclaw-token': TOKEN, 'content-type': 'text/plain', ...NOT_LOOPBACK },
      body: 'build #7 passed',
    });
    expect(viaHeader.status).toBe(202);
    const { id } = (await viaHeader.json()) as { id: string };
    const plain = await control.waitForNotification('hook', (params) => (params as HookParams).id === id);
    expect((plain.params as HookParams).payload).toBe('build #7 passed');

    const loopback = await fetch(`${gateway.url}/hooks/form`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=2',
    });
    expect(loopback.status).toBe(202);
    const form = (await loopback.json()) as { id: string };
    const formHook = await control.waitForNotification('hook', (params) => (params as HookParams).id === form.id);
    expect((formHook.params as HookParams).payload).toBe('a=1&b=2');
  });

  it('logs "hook received" with name, id and size but never the payload', async () => {
    const marker = 'payload-marker-5f1c2e';
    const response = await postHook('audit', JSON.stringify({ marker }));
    const { id } = (await response.json()) as { id: string };
    const entry = await gateway.waitForLog((line) => line.msg === 'hook received' && line.id === id);
    expect(entry).toMatchObject({ name: 'audit', id, bytes: expect.any(Number) });
    await gateway.settled();
    expect(gateway.lines.join('\n')).not.toContain(marker);
    expect(gateway.lines.join('\n')).not.toContain(TOKEN);
  });

  it('refuses a payload over 64 KiB with 413', async () => {
    const response = await postHook('big', JSON.stringify({ blob: 'x'.repeat(64 * 1024) }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('payload_too_large');
  });

  it.each([['a'.repeat(65)], ['bad%20name'], ['semi%3Bcolon']])('refuses the hook name %s with 400', async (name) => {
    const response = await postHook(name, '{}');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('invalid_request');
  });

  it('refuses ?token= with 400 and a missing or wrong credential with 401', async () => {
    const query = await fetch(`${gateway.url}/hooks/x?token=${TOKEN}`, { method: 'POST', headers: NOT_LOOPBACK, body: '' });
    expect(query.status).toBe(400);
    const missing = await fetch(`${gateway.url}/hooks/x`, { method: 'POST', headers: NOT_LOOPBACK });
    expect(missing.status).toBe(401);
    const wrong = await postHook('x', '{}', bearer('not-the-token'));
    expect(wrong.status).toBe(401);
  });

  it('answers 403 forbidden to a device token', async () => {
    const device = await openRpc(gateway.wsUrl);
    clients.push(device);
    const requested = await device.call('node.pair.request', { displayName: 'Hook tester', platform: 'test' });
    const { requestId } = requested.result as { requestId: string };
    expect((await control.call('node.pair.approve', { requestId })).result).toBeDefined();
    const resolved = await device.waitForNotification('node.pair.resolved');
    const { token } = resolved.params as { token: string };

    const hooksBefore = control.notifications.filter((n) => n.method === 'hook').length;
    const response = await postHook('x', '{}', bearer(token));
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('forbidden');
    await control.call('status');
    expect(control.notifications.filter((n) => n.method === 'hook').length).toBe(hooksBefore);
  });
});
