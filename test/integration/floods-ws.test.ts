// Floods on the WebSocket face of one gateway: connections per client IP, pending pairing requests,
// and a client that never reads while the server pushes (backpressure).
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/httpRequest.js';
import { freePort } from '../helpers/ports.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';

const TOKEN = 'floods-ws-token-5e1f';
let gw: GatewayProcess;
let metricsUrl: string;
const clients: RpcClient[] = [];
const track = (client: RpcClient) => (clients.push(client), client);

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
}

async function metric(name: string): Promise<number> {
  const text = (await httpRequest(metricsUrl)).body;
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

beforeAll(async () => {
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  gw = await startGateway({
    env: { OPENCLAW_METRICS_PORT: String(metricsPort) },
    config: { auth: { token: TOKEN }, trustedProxies: ['127.0.0.1'], ws: { maxConnectionsPerIp: 5, pingIntervalSeconds: 2 } },
  });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await gw?.kill();
});

/** An upgrade as a client behind the trusted proxy 127.0.0.1 would make it. */
const viaProxy = (clientIp: string) => ({ headers: { 'x-forwarded-for': clientIp } });

describe('connection flood from one client IP', () => {
  it('admits gateway.ws.maxConnectionsPerIp, refuses the rest with 1013, and leaves other IPs alone', async () => {
    const attempts = await Promise.all(Array.from({ length: 60 }, () => openRpc(gw.wsUrl, { localAddress: '127.0.0.40' }).then(track)));
    const outcomes = await Promise.all(
      attempts.map((client) => Promise.race([client.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 1_500))])),
    );
    const refused = outcomes.filter((outcome) => outcome !== null);
    expect(refused).toHaveLength(55);
    for (const outcome of refused) expect(outcome).toEqual({ code: 1013, reason: 'too many connections from this address' });
    // the admitted five work, and so do other addresses, direct or behind the proxy
    const admitted = attempts.filter((_, index) => outcomes[index] === null);
    expect((await admitted[0]!.call('connect', { role: 'control', auth: { token: TOKEN } })).result).toBeDefined();
    track((await connectRpc(gw.wsUrl, { role: 'control' }, { localAddress: '127.0.0.41' })).client);
    for (let index = 0; index < 5; index++) {
      track((await connectRpc(gw.wsUrl, { role: 'control', auth: { token: TOKEN } }, viaProxy(`203.0.113.${index + 1}`))).client);
    }
    // behind the proxy, the cap is per forwarded client IP, not per proxy
    const sixth = track(await openRpc(gw.wsUrl, viaProxy('203.0.113.1')));
    const crowd = await Promise.all(Array.from({ length: 5 }, () => openRpc(gw.wsUrl, viaProxy('203.0.113.1')).then(track)));
    const crowdClosed = await Promise.race([Promise.any([sixth, ...crowd].map((c) => c.closed)), new Promise<null>((r) => setTimeout(() => r(null), 1_500))]);
    expect(crowdClosed).toEqual({ code: 1013, reason: 'too many connections from this address' });
    for (const client of admitted) client.close();
  });
});

describe('pending pairing requests', () => {
  it('caps them at 3 per client IP and 100 in all with -32002 rate_limited', async () => {
    const requestFrom = async (clientIp: string) => {
      const client = track(await openRpc(gw.wsUrl, viaProxy(clientIp)));
      const answer = await client.call('node.pair.request', { displayName: `flood ${clientIp}` });
      client.close();
      return answer;
    };
    const first = await Promise.all([1, 2, 3, 4].map(() => requestFrom('198.51.100.1')));
    expect(first.filter((answer) => answer.result)).toHaveLength(3);
    const refusedForIp = first.find((answer) => answer.error)!;
    expect(refusedForIp.error).toMatchObject({ code: -32002, data: { type: 'rate_limited', retryAfter: expect.any(Number) } });
    expect(refusedForIp.error!.message).toContain('from this client');

    // 97 more from 33 other addresses fill the global 100; everyone after that is refused
    const addresses = Array.from({ length: 33 }, (_, index) => `2001:db8:${index + 1}::7`);
    const fill = await Promise.all(addresses.flatMap((ip) => [ip, ip, ip]).slice(0, 97).map(requestFrom));
    expect(fill.filter((answer) => answer.error)).toEqual([]);
    const overflow = await Promise.all(['198.51.100.200', '2001:db8:ffff::1', '198.51.100.201'].map(requestFrom));
    for (const answer of overflow) {
      expect(answer.error).toMatchObject({ code: -32002, data: { type: 'rate_limited' } });
      expect(answer.error!.message).toContain('in total');
    }
    const { client } = await connectRpc(gw.wsUrl, { role: 'control' });
    track(client);
    const pending = (await client.call('node.pair.list', {})).result as { requests: unknown[] };
    expect(pending.requests).toHaveLength(100);
  }, 30_000);
});

describe('a client that never reads', () => {
  it('gets notifications dropped past the buffer bound, is cut off, and the gateway memory stays bounded', async () => {
    const reader = track((await connectRpc(gw.wsUrl, { role: 'control' }, { localAddress: '127.0.0.50' })).client);
    const stalled = track((await connectRpc(gw.wsUrl, { role: 'control' }, { localAddress: '127.0.0.51' })).client);
    const tcp = (stalled.socket as unknown as { _socket: Socket })._socket;
    tcp.pause(); // stop reading: the kernel buffers fill, then the gateway's
    const sessionsBefore = await metric('openclaw_ws_sessions');
    const rssBefore = rssBytes(gw.child.pid!);

    const payload = JSON.stringify({ blob: 'p'.repeat(60 * 1024) });
    const hooks = 300; // 300 × 60 KiB ≈ 18 MB pushed at the stalled client
    for (let sent = 0; sent < hooks; sent += 20) {
      await Promise.all(
        Array.from({ length: 20 }, () =>
          httpRequest(`${gw.url}/hooks/flood`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload }).then((r) =>
            expect(r.status).toBe(202),
          ),
        ),
      );
    }
    await gw.waitForLog((entry) => entry.msg === 'ws notifications dropped');
    const growth = rssBytes(gw.child.pid!) - rssBefore;
    expect(growth, `RSS grew by ${Math.round(growth / 1e6)} MB`).toBeLessThan(64 * 1024 * 1024);

    // the reading client got every hook; the stalled one is cut off (missed pongs) within a few pings
    await reader.waitForNotification('hook', () => reader.notifications.filter((n) => n.method === 'hook').length >= hooks, 15_000);
    const deadline = Date.now() + 12_000;
    while ((await metric('openclaw_ws_sessions')) >= sessionsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await metric('openclaw_ws_sessions')).toBe(sessionsBefore - 1);
    tcp.resume();
    const closed = await stalled.closed;
    expect([1006, 1013]).toContain(closed.code);
    expect(stalled.notifications.length).toBeLessThan(hooks);
    expect((await reader.call('status')).result).toMatchObject({ ready: true });
  }, 60_000);
});
