// One gateway on the embedded store: pairing over the WebSocket API, and devices that survive a restart.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
});
