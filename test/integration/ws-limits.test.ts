import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';

let gw: GatewayProcess;
const clients: RpcClient[] = [];
const track = (client: RpcClient) => (clients.push(client), client);

beforeAll(async () => {
  gw = await startGateway({ config: { ws: { maxConnectionsPerIp: 3, pingIntervalSeconds: 1 } } });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await gw?.kill();
});

/** A request frame of exactly `bytes` bytes (padded inside params). */
function frameOf(bytes: number, method = 'status'): string {
  const empty = JSON.stringify({ jsonrpc: '2.0', id: 'big', method, params: { pad: '' } });
  return JSON.stringify({ jsonrpc: '2.0', id: 'big', method, params: { pad: 'x'.repeat(bytes - empty.length) } });
}

describe('frame size limits', () => {
  it('closes 1009 on a frame over 64 KiB before connect, and takes one of exactly 64 KiB', async () => {
    const atLimit = track(await openRpc(gw.wsUrl));
    atLimit.send(frameOf(64 * 1024));
    expect((await atLimit.waitForResponse('big')).error).toMatchObject({ code: -32004 });

    const over = track(await openRpc(gw.wsUrl));
    over.send(frameOf(64 * 1024 + 1));
    expect(await over.closed).toEqual({ code: 1009, reason: 'frame too large before connect' });
  });

  it('after connect takes frames up to 1 MiB and closes 1009 beyond', async () => {
    const client = track((await connectRpc(gw.wsUrl, { role: 'control' })).client);
    client.send(frameOf(1024 * 1024));
    expect((await client.waitForResponse('big')).result).toMatchObject({ ready: true });
    client.send(frameOf(1024 * 1024 + 1));
    expect((await client.closed).code).toBe(1009);
  });
});

describe('connection limits', () => {
  it('caps concurrent connections per client IP (gateway.ws.maxConnectionsPerIp) with close 1013', async () => {
    const options = { localAddress: '127.0.0.20' };
    const admitted: RpcClient[] = [];
    for (let index = 0; index < 3; index += 1) admitted.push(track((await connectRpc(gw.wsUrl, { role: 'control' }, options)).client));
    const fourth = track(await openRpc(gw.wsUrl, options));
    expect(await fourth.closed).toEqual({ code: 1013, reason: 'too many connections from this address' });
    // other addresses are not affected, and a freed slot can be taken again
    track((await connectRpc(gw.wsUrl, { role: 'control' }, { localAddress: '127.0.0.21' })).client);
    const first = admitted[0]!;
    first.close();
    await first.closed;
    track((await connectRpc(gw.wsUrl, { role: 'control' }, options)).client);
  });
});

describe('heartbeat', () => {
  it('pings every interval and drops a peer that misses two pongs', async () => {
    const silent = track((await connectRpc(gw.wsUrl, { role: 'control' }, { autoPong: false, localAddress: '127.0.0.22' })).client);
    const healthy = track((await connectRpc(gw.wsUrl, { role: 'control' }, { localAddress: '127.0.0.23' })).client);
    let pings = 0;
    silent.socket.on('ping', () => (pings += 1));
    const started = Date.now();
    const closed = await silent.closed;
    expect(closed.code).toBe(1006); // terminated, no closing handshake
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await healthy.call('status')).result).toMatchObject({ ready: true });
  });
});

describe('handshake timeout', () => {
  it('closes 1008 when no connect arrives within 10 s', async () => {
    const idle = track(await openRpc(gw.wsUrl, { localAddress: '127.0.0.24' }));
    const started = Date.now();
    const closed = await idle.closed;
    expect(closed).toEqual({ code: 1008, reason: 'connect timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
  }, 15_000);
});

describe('shutdown', () => {
  it('closes every session with 1012 "service restart" and exits 0', async () => {
    const stopping = await startGateway({ drainSeconds: 0 });
    const connected = (await connectRpc(stopping.wsUrl, { role: 'control' })).client;
    const pending = await openRpc(stopping.wsUrl);
    const exit = stopping.stop('SIGTERM');
    expect(await connected.closed).toEqual({ code: 1012, reason: 'service restart' });
    expect(await pending.closed).toEqual({ code: 1012, reason: 'service restart' });
    expect(await exit).toBe(0);
  });
});

describe('outstanding requests', () => {
  it('answers requests beyond 32 in flight with -32002 rate_limited and keeps the session', async () => {
    const client = track((await connectRpc(gw.wsUrl, { role: 'control' }, { localAddress: '127.0.0.25' })).client);
    // one burst, read by the server in one chunk: every request is in flight before any is answered
    const burst = Array.from({ length: 100 }, (_, index) => JSON.stringify({ jsonrpc: '2.0', id: `b${index}`, method: 'status' }));
    client.socket.send(burst[0]!);
    await client.waitForResponse('b0');
    // corked, the 99 frames leave in one write (ws exposes no public cork; _socket is its net.Socket)
    const tcp = (client.socket as unknown as { _socket: import('node:net').Socket })._socket;
    tcp.cork();
    for (const text of burst.slice(1)) client.socket.send(text);
    tcp.uncork();
    const answers = await Promise.all(burst.slice(1).map((_, index) => client.waitForResponse(`b${index + 1}`)));
    const limited = answers.filter((answer) => answer.error);
    expect(answers.filter((answer) => answer.result)).toHaveLength(answers.length - limited.length);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.error).toEqual({
      code: -32002,
      message: 'At most 32 requests may be outstanding.',
      data: { type: 'rate_limited', retryAfter: 1 },
    });
    expect((await client.call('status')).result).toMatchObject({ ready: true });
  });
});
