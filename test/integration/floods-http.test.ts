// Floods on the HTTP face of one gateway: slowloris clients (headers that never finish) and failed
// authentications from 10,000 distinct client IPs behind a trusted proxy.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest } from '../helpers/httpRequest.js';
import { freePort } from '../helpers/ports.js';

const TOKEN = 'floods-http-token-77d1';
const HEADERS_TIMEOUT_SECONDS = 2;
let gw: GatewayProcess;
let metricsUrl: string;

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
}

beforeAll(async () => {
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  gw = await startGateway({
    env: { OPENCLAW_METRICS_PORT: String(metricsPort) },
    config: {
      auth: { token: TOKEN, rateLimit: { maxFailures: 1 } },
      trustedProxies: ['127.0.0.1'],
      http: { headersTimeoutSeconds: HEADERS_TIMEOUT_SECONDS },
    },
  });
});
afterAll(async () => {
  await gw?.kill();
});

interface Slowloris {
  readonly closedAfterMs: Promise<number>;
  stop(): void;
}

/** A client that opens a connection, sends `opening`, then one byte of `trickle` every 300 ms, forever (or stays silent). */
function slowloris(port: number, localAddress: string, [opening, trickle]: readonly [string, string]): Slowloris {
  const started = Date.now();
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  socket.on('data', () => {}); // a 408 may come first; the close is what counts
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(opening);
    let index = 0;
    if (trickle !== '') timer = setInterval(() => socket.write(trickle[index++ % trickle.length]!), 300);
  });
  const closedAfterMs = new Promise<number>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(Date.now() - started);
    }),
  );
  return { closedAfterMs, stop: () => socket.destroy() };
}

describe('slowloris', () => {
  it('closes connections whose headers never finish within gateway.http.headersTimeoutSeconds, while others are served', async () => {
    const openings = [
      ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: abcdefgh'], // one header byte at a time
      ['GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n', 'X-Slow: abcdefgh'],
      ['GET /v1/', 'models'], // a request line that never ends
      ['', ''], // connects and says nothing
    ] as const;
    const clients = Array.from({ length: 40 }, (_, index) => slowloris(gw.port, `127.0.0.${60 + (index % 10)}`, openings[index % openings.length]!));
    try {
      // during the attack the gateway answers everyone else
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await httpRequest(`${gw.url}/healthz`)).status).toBe(200);
      const closedAfter = await Promise.all(clients.map((client) => Promise.race([client.closedAfterMs, new Promise<number>((r) => setTimeout(() => r(Infinity), 8_000))])));
      for (const ms of closedAfter) {
        expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_SECONDS * 1000 - 100);
        expect(ms).toBeLessThan(HEADERS_TIMEOUT_SECONDS * 1000 + 2_000);
      }
    } finally {
      for (const client of clients) client.stop();
    }
    expect((await httpRequest(`${gw.url}/healthz`)).status).toBe(200);
  }, 20_000);

  it('refuses a headers timeout outside 1 to 300 seconds at start', async () => {
    await expect(startGateway({ config: { http: { headersTimeoutSeconds: 0 } }, timeoutMs: 5_000 })).rejects.toThrow(/gateway.http.headersTimeoutSeconds/);
  });
});

describe('10,000 distinct client IPs through the failed-auth limiter', () => {
  it('blocks each of them, and the gateway memory stays bounded', async () => {
    // 203.0.113.0/24 and 9,744 distinct /64s of 2001:db8::/32 (IPv6 is counted per /64)
    const clientIps = [
      ...Array.from({ length: 256 }, (_, index) => `203.0.113.${index}`),
      ...Array.from({ length: 9_744 }, (_, index) => `2001:db8:${(index >> 8).toString(16)}:${(index & 255).toString(16)}::${(index % 7) + 1}`),
    ];
    const dispatcher = new Agent({ connections: 16, pipelining: 1, keepAliveTimeout: 10_000 });
    const attempt = async (clientIp: string, secret: string) => {
      const response = await fetch(`${gw.url}/v1/models`, { dispatcher, headers: { 'x-forwarded-for': clientIp, authorization: `Bearer ${secret}` } });
      await response.arrayBuffer();
      return response.status;
    };
    // Warmed with as many requests as the flood sends, so that the heap has already grown to its working size
    // under load (V8's young generation grows with the allocation rate: Node 24's to 32 MB semi-spaces) and what
    // the flood adds is the per-client state.
    for (let sent = 0; sent < clientIps.length; sent += 200) {
      const warm = await Promise.all(Array.from({ length: 200 }, () => attempt('198.51.100.9', TOKEN)));
      expect(warm.every((status) => status === 200)).toBe(true);
    }
    const rssBefore = rssBytes(gw.child.pid!);

    const statuses = new Map<number, number>();
    for (let start = 0; start < clientIps.length; start += 200) {
      const batch = await Promise.all(clientIps.slice(start, start + 200).map((ip) => attempt(ip, 'wrong-secret')));
      for (const status of batch) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: clientIps.length }); // one failure each: counted, then blocked

    // every one of them is now blocked (correct token included), other clients are not
    const sample = [clientIps[0]!, clientIps[255]!, clientIps[256]!, clientIps.at(-1)!, '2001:db8:0:1::ffff'];
    for (const ip of sample) expect(await attempt(ip, TOKEN)).toBe(429);
    expect(await attempt('198.51.100.10', TOKEN)).toBe(200);
    const blocks = (await httpRequest(metricsUrl)).body.split('\n').find((line) => line.startsWith('openclaw_auth_blocks_total'));
    expect(Number(blocks?.split(' ').at(-1))).toBe(clientIps.length);

    const growth = rssBytes(gw.child.pid!) - rssBefore;
    expect(growth, `RSS grew by ${Math.round(growth / 1e6)} MB`).toBeLessThan(64 * 1024 * 1024);
    expect(gw.child.exitCode).toBeNull();
    await dispatcher.close();
  }, 60_000);
});
