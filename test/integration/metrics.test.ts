import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { httpRequest, type HttpResponse } from '../helpers/httpRequest.js';
import { freePort } from '../helpers/ports.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';

const TOKEN = 'metrics-token-7c1e9a3f5b2d4e6a';
const WRONG_SECRET = 'wrong-secret-3a9f6c2e8b1d7f40';
// A forwarding header turns the loopback bypass off, so the token (or its absence) decides.
const REMOTE = { 'x-forwarded-for': '203.0.113.21' };
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/;
/** A distinct client (loopback alias) that exhausts its failed-auth budget. */
const ATTACKER = '127.0.0.2';
const CLAIM_SECRET_KEY = 'claimSecret';

let gateway: GatewayProcess;
let metricsPort: number;
let exposition: string;
let samples: Map<string, number>;
let afterClose: Map<string, number>;
let attackerStatuses: number[];
let claimSecret: string;

/** `name{a="x",b="y"}` → value, labels sorted so lookups do not depend on prom-client's order. */
function parseExposition(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable exposition line: ${line}`);
    const labels = (match[2] ?? '').split(/,(?=\w+=")/).filter(Boolean).sort().join(',');
    result.set(labels ? `${match[1]}{${labels}}` : match[1]!, Number(match[3]));
  }
  return result;
}

const sample = (name: string, labels: Record<string, string> = {}) => {
  const rendered = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort()
    .join(',');
  return samples.get(rendered ? `${name}{${rendered}}` : name);
};

/** Ports the process listens on (Linux /proc), so "nothing else listens" can be checked, not assumed. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // fd closed while we looked
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A' || !inodes.has(fields[9]!)) continue;
      ports.add(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

const get = (path: string, headers: Record<string, string> = {}) => httpRequest(`${gateway.url}${path}`, { headers: { ...REMOTE, ...headers } });

beforeAll(async () => {
  metricsPort = await freePort();
  gateway = await startGateway({ env: { OPENCLAW_GATEWAY_TOKEN: TOKEN, OPENCLAW_METRICS_PORT: String(metricsPort) } });
  const responses: HttpResponse[] = [];
  for (let i = 0; i < 3; i++) responses.push(await get('/v1/models', { authorization: `Bearer ${TOKEN}` }));
  for (let i = 0; i < 2; i++) responses.push(await get('/v1/models', { authorization: `Bearer ${WRONG_SECRET}` }));
  responses.push(await get('/no-such-route'));
  expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 401, 401, 404]);
  // 20 failures are allowed per window; the 21st and everything after it from that IP is refused with 429.
  attackerStatuses = [];
  for (let i = 0; i < 22; i++) {
    const response = await httpRequest(`${gateway.url}/v1/models`, {
      localAddress: ATTACKER,
      headers: { ...REMOTE, authorization: `Bearer ${WRONG_SECRET}-${i}` },
    });
    attackerStatuses.push(response.status);
  }
  const control = await connectRpc(gateway.wsUrl, { role: 'control', auth: { token: TOKEN } }, { headers: REMOTE });
  const device: RpcClient = await openRpc(gateway.wsUrl, { headers: REMOTE });
  const pairing = await device.call('node.pair.request', { displayName: 'metrics test device' });
  claimSecret = String((pairing.result as Record<string, unknown>)[CLAIM_SECRET_KEY]);
  const scrape = await httpRequest(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(scrape.status).toBe(200);
  expect(scrape.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  exposition = scrape.body;
  samples = parseExposition(exposition);
  control.client.close();
  device.close();
  await Promise.all([control.client.closed, device.closed]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  afterClose = parseExposition((await httpRequest(`http://127.0.0.1:${metricsPort}/metrics`)).body);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
});

describe('Prometheus /metrics on gateway.metrics.port', () => {
  it('counts HTTP requests by route template and status class, 404s as route="unknown"', () => {
    const count = 'openclaw_http_request_duration_seconds_count';
    expect(sample(count, { route: '/v1/models', status_class: '2xx' })).toBe(3);
    // 2 wrong tokens, then 20 × 401 and 2 × 429 from the attacker.
    expect(sample(count, { route: '/v1/models', status_class: '4xx' })).toBe(24);
    expect(sample(count, { route: 'unknown', status_class: '4xx' })).toBe(1);
    expect(sample('openclaw_http_request_duration_seconds_bucket', { route: '/v1/models', status_class: '2xx', le: '+Inf' })).toBe(3);
    expect(sample('openclaw_http_request_duration_seconds_sum', { route: '/v1/models', status_class: '2xx' })).toBeGreaterThan(0);
  });

  it('counts authentication attempts exactly, by method and result', () => {
    expect(attackerStatuses).toEqual([...Array<number>(20).fill(401), 429, 429]);
    // 3 HTTP requests and 1 WebSocket connect with the token.
    expect(sample('openclaw_auth_attempts_total', { method: 'token', result: 'success' })).toBe(4);
    // 2 wrong tokens from the first client, 20 from the second before its block.
    expect(sample('openclaw_auth_attempts_total', { method: 'none', result: 'failure' })).toBe(22);
  });

  it('counts rate-limited refusals by transport and the blocked client once', () => {
    // The 20th failure blocks the client; the 21st and 22nd requests are refused by the block list before
    // any authentication decision, so they are refusals, not attempts.
    expect(sample('openclaw_auth_attempts_total', { method: 'none', result: 'rate_limited' })).toBeUndefined();
    expect(sample('openclaw_auth_rate_limited_total', { transport: 'http' })).toBe(2);
    expect(sample('openclaw_auth_rate_limited_total', { transport: 'ws' })).toBe(0);
    expect(sample('openclaw_auth_blocks_total')).toBe(1);
  });

  it('gauges WebSocket sessions by role while they are open, back to zero after close', () => {
    expect(sample('openclaw_ws_sessions', { role: 'control' })).toBe(1);
    expect(sample('openclaw_ws_sessions', { role: 'node' })).toBe(0);
    expect(sample('openclaw_ws_sessions', { role: 'webchat' })).toBe(0);
    expect(afterClose.get('openclaw_ws_sessions{role="control"}')).toBe(0);
  });

  it('counts pairing requests by outcome', () => {
    expect(sample('openclaw_pairing_requests_total', { outcome: 'requested' })).toBe(1);
  });

  it('exposes the error counters, at zero while nothing failed', () => {
    expect(sample('openclaw_cluster_bus_errors_total')).toBe(0);
    expect(exposition).toContain('# TYPE openclaw_store_errors_total counter');
    expect([...samples.keys()].filter((key) => key.startsWith('openclaw_store_errors_total'))).toEqual([]);
  });

  it('includes the process default metrics', () => {
    expect(sample('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sample('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(exposition).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
    expect(exposition).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('never exposes a secret or a client IP', () => {
    expect(exposition).not.toContain(TOKEN);
    expect(exposition).not.toContain(WRONG_SECRET);
    expect(claimSecret.length).toBeGreaterThan(10);
    expect(exposition).not.toContain(claimSecret);
    expect(exposition).not.toMatch(IPV4);
    expect(exposition).not.toContain('::1');
  });

  it('answers only GET /metrics on that port', async () => {
    expect((await httpRequest(`http://127.0.0.1:${metricsPort}/v1/models`)).status).toBe(404);
    expect((await httpRequest(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('listens on exactly the gateway port and the metrics port', () => {
    expect(listeningPorts(gateway.child.pid!)).toEqual([gateway.port, metricsPort].sort((a, b) => a - b));
  });
});

describe('metrics switched off or unavailable', () => {
  it('gateway.metrics.port 0: no metrics server at all', async () => {
    const quiet = await startGateway({ env: { OPENCLAW_GATEWAY_TOKEN: TOKEN, OPENCLAW_METRICS_PORT: '0' } });
    try {
      expect(listeningPorts(quiet.child.pid!)).toEqual([quiet.port]);
      expect(quiet.logs().some((entry) => entry.msg === 'metrics listening')).toBe(false);
    } finally {
      await quiet.stop();
    }
  }, 30_000);

  it('a busy metrics port refuses the start with one clear line', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const stateDir = mkdtempSync(join(tmpdir(), 'openclaw-metrics-busy-'));
    try {
      const result = await runCli(['gateway', '--port', String(await freePort())], {
        env: { OPENCLAW_METRICS_PORT: String(busyPort), OPENCLAW_SHUTDOWN_DRAIN_SECONDS: '0', OPENCLAW_STATE_DIR: stateDir },
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot serve metrics on 127.0.0.1:${busyPort}: address already in use`);
    } finally {
      busy.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 30_000);
});
