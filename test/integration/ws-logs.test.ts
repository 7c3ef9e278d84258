import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv, runCli, startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { openRpc } from '../helpers/wsRpc.js';

const TOKEN = 'logs-test-token';
let gw: GatewayProcess;

beforeAll(async () => {
  gw = await startGateway({ config: { auth: { token: TOKEN } } });
});
afterAll(async () => {
  await gw?.kill();
});

async function failWebSocketAuth(localAddress: string): Promise<void> {
  const client = await openRpc(gw.wsUrl, { localAddress });
  const answer = await client.call('connect', { role: 'control', auth: { token: 'not-the-token' } });
  expect(answer.error?.code).toBe(-32001);
  await client.closed;
}

const parseLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('openclaw logs', () => {
  it('prints the log ring one JSON object a line, so `openclaw logs | grep "auth failed"` finds a failed WebSocket auth', async () => {
    await failWebSocketAuth('127.0.0.30');
    const { code, stdout, stderr } = await runCli(['logs'], { env: { OPENCLAW_GATEWAY_URL: gw.url, OPENCLAW_GATEWAY_TOKEN: TOKEN } });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const grepped = stdout.split('\n').filter((line) => line.includes('auth failed'));
    expect(grepped.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(grepped[0]!)).toMatchObject({ msg: 'auth failed', transport: 'ws', clientIp: '127.0.0.30' });
    expect(stdout).not.toContain('not-the-token');
    const entries = parseLines(stdout);
    expect(entries[0]).toMatchObject({ msg: expect.any(String), level: expect.any(Number) });
  });

  it('-n N prints only the newest N lines; without a token it connects as a loopback client', async () => {
    const { code, stdout } = await runCli(['logs', '-n', '2'], { env: { OPENCLAW_GATEWAY_URL: gw.url } });
    expect(code).toBe(0);
    const entries = parseLines(stdout);
    expect(entries).toHaveLength(2);
    // the newest line is this very CLI session connecting, as a loopback client
    expect(entries[1]).toMatchObject({ msg: 'ws session connected', method: 'loopback', role: 'control' });
  });

  it('-f keeps printing new lines as they are logged', async () => {
    const child = spawn(process.execPath, [CLI, 'logs', '-f', '-n', '1'], {
      env: cleanEnv({ OPENCLAW_GATEWAY_URL: gw.url, OPENCLAW_GATEWAY_TOKEN: TOKEN }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      // the tail (its own connect line) is printed once the follow is in place
      await until(() => stdout.includes('ws session connected'));
      await failWebSocketAuth('127.0.0.31');
      await until(() => stdout.includes('127.0.0.31'));
      const followed = parseLines(stdout).find((entry) => entry.clientIp === '127.0.0.31' && entry.msg === 'auth failed');
      expect(followed).toMatchObject({ transport: 'ws' });
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('fails with exit 1 and a readable cause when the gateway refuses or is not there', async () => {
    const refused = await runCli(['logs'], { env: { OPENCLAW_GATEWAY_URL: gw.url, OPENCLAW_GATEWAY_TOKEN: 'wrong' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('set OPENCLAW_GATEWAY_TOKEN');
    const url = `http://127.0.0.1:${await freePort()}`;
    const absent = await runCli(['logs'], { env: { OPENCLAW_GATEWAY_URL: url } });
    expect(absent.code).toBe(1);
    expect(absent.stderr.trim()).toBe(`Gateway not reachable at ${url}: connection refused`);
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
