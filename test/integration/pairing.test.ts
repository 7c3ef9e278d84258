// One gateway on the embedded store: pairing over the WebSocket API, and devices that survive a restart.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { bearer, fetchFrom } from '../helpers/http.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';

const NOT_LOOPBACK = { 'x-forwarded-for': '203.0.113.20' };
const stateDir = mkdtempSync(join(tmpdir(), 'openclaw-pairing-state-'));
const clients: RpcClient[] = [];
let gateway: GatewayProcess | undefined;

afterAll(async () => {
  for (const client of clients) client.close();
  await gateway?.kill();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('pairing on the embedded store', () => {
  it('pairs a device whose token keeps working after a restart; the state file (0600) holds no token', async () => {
    gateway = await startGateway({ stateDir });
    const device = await openRpc(gateway.wsUrl, { localAddress: '127.0.0.2' });
    clients.push(device);
    const requested = await device.call('node.pair.request', { displayName: 'Desk lamp', platform: 'esp32', deviceId: 'lamp' });
    const { requestId, claimSecret } = requested.result as { requestId: string; claimSecret: string };

    const { client: control } = await connectRpc(gateway.wsUrl, { role: 'control' });
    clients.push(control);
    expect((await control.call('node.pair.approve', { requestId })).result).toMatchObject({ deviceId: 'lamp' });
    const resolved = await device.waitForNotification('node.pair.resolved');
    const { token } = resolved.params as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    await gateway.stop();
    const stateFile = join(stateDir, 'devices.json');
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const content = readFileSync(stateFile, 'utf8');
    expect(content).toContain('lamp');
    expect(content).not.toContain(token);
    expect(content).not.toContain(claimSecret);

    gateway = await startGateway({ stateDir });
    const whoami = await fetchFrom('127.0.0.3', `${gateway.url}/v1/whoami`, { headers: { ...bearer(token), ...NOT_LOOPBACK } });
    expect(whoami.status).toBe(200);
    expect(await whoami.json()).toMatchObject({ method: 'device', identity: 'device:lamp', role: 'node' });
    const { client: node, result } = await connectRpc(gateway.wsUrl, { role: 'node', auth: { token } }, { localAddress: '127.0.0.4' });
    clients.push(node);
    expect(result).toMatchObject({ role: 'node', auth: { method: 'device', identity: 'device:lamp' } });

    const controlSession = await connectRpc(gateway.wsUrl, { role: 'control' });
    clients.push(controlSession.client);
    const devices = (await controlSession.client.call('device.list', {})).result as { devices: Array<{ deviceId: string }> };
    expect(devices.devices.map((d) => d.deviceId)).toEqual(['lamp']);
    await gateway.settled();
    expect(gateway.lines.join('\n')).not.toContain(token);
  });

  it('a device token may connect only as node', async () => {
    const control = await connectRpc(gateway!.wsUrl, { role: 'control' });
    clients.push(control.client);
    const rotated = (await control.client.call('device.token.rotate', { deviceId: 'lamp' })).result as { token: string };
    const socket = await openRpc(gateway!.wsUrl, { localAddress: '127.0.0.5' });
    clients.push(socket);
    const refused = await socket.call('connect', { role: 'control', auth: { token: rotated.token } });
    expect(refused.error?.code).toBeLessThan(0);
    expect((await socket.closed).code).toBe(1008);
  });

  it('on one keep-alive connection each request is decided by its own token, and a revoked token stops at once', async () => {
    const control = await connectRpc(gateway!.wsUrl, { role: 'control' });
    clients.push(control.client);
    const tokens: Record<string, string> = {};
    for (const deviceId of ['kettle', 'fan']) {
      const device = await openRpc(gateway!.wsUrl, { localAddress: '127.0.0.6' });
      clients.push(device);
      const { requestId } = (await device.call('node.pair.request', { displayName: deviceId, platform: 'esp32', deviceId })).result as { requestId: string };
      await control.client.call('node.pair.approve', { requestId });
      tokens[deviceId] = ((await device.waitForNotification('node.pair.resolved')).params as { token: string }).token;
    }
    // One socket for every request (the gateway keeps the last token's digest per connection).
    const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: '127.0.0.7' });
    const sockets = new Set<unknown>();
    const whoami = (token: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${gateway!.url}/v1/whoami`, { agent, headers: { ...bearer(token), ...NOT_LOOPBACK } }, (res) => {
          sockets.add(res.socket);
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject).end();
      });
    const identityOf = async (token: string) => {
      const { status, body } = await whoami(token);
      return status === 200 ? (JSON.parse(body) as { identity: string }).identity : status;
    };
    const unknownToken = 'A'.repeat(43);
    const sequence = [tokens.kettle!, tokens.kettle!, tokens.fan!, tokens.kettle!, unknownToken, tokens.kettle!, tokens.fan!, tokens.fan!];
    const identities = [];
    for (const token of sequence) identities.push(await identityOf(token));
    expect(identities).toEqual(['device:kettle', 'device:kettle', 'device:fan', 'device:kettle', 401, 'device:kettle', 'device:fan', 'device:fan']);
    expect(await identityOf(tokens.kettle!)).toBe('device:kettle');
    await control.client.call('device.token.revoke', { deviceId: 'kettle' });
    expect(await identityOf(tokens.kettle!)).toBe(401);
    expect(await identityOf(tokens.fan!)).toBe('device:fan');
    expect(sockets.size).toBe(1);
    agent.destroy();
  });
});
