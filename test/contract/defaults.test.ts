// GATEWAY.md §1 defaults and AUTHENTICATION.md's shell examples, run as a user runs them: `openclaw gateway`
// with no --port (127.0.0.1:18789 and [::1]:18789), the curl example byte for byte, `openclaw logs | grep
// "auth failed"` as a real pipeline, and the "Connection refused" troubleshooting commands.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv, runCli } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { openRpc } from '../helpers/wsRpc.js';

const DEFAULT_PORT = 18789;
const DEFAULT_URL = `http://127.0.0.1:${DEFAULT_PORT}`;
// The placeholder of the curl example is the configured token, so the example runs unchanged.
const TOKEN = 'your-token-here';

// AUTHENTICATION.md, "Bearer Token", byte for byte.
const CURL_EXAMPLE = `curl -X POST http://localhost:18789/v1/chat/completions \\
  -H "Authorization: Bearer your-token-here" \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "openclaw",
    "messages": [{"role": "user", "content": "Hello"}]
  }'`;

const workDir = mkdtempSync(join(tmpdir(), 'openclaw-contract-defaults-'));
const binDir = join(workDir, 'bin');
let upstream: TestUpstream;
let gatewayProcess: ReturnType<typeof spawn> | undefined;
let gatewayExited: Promise<number | null>;

/** Environment of the user's shell: `openclaw` on the PATH, the token exported. */
function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = cleanEnv({ OPENCLAW_GATEWAY_TOKEN: TOKEN, ...extra });
  env.PATH = `${binDir}:${env.PATH ?? ''}`;
  return env;
}

function sh(script: string, env = shellEnv()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', script], { env, timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

beforeAll(async () => {
  const deadline = Date.now() + 30_000;
  while (await portTaken('127.0.0.1', DEFAULT_PORT)) {
    if (Date.now() > deadline) throw new Error(`port ${DEFAULT_PORT} stays busy: this suite needs the default port`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  mkdirSync(binDir);
  symlinkSync(CLI, join(binDir, 'openclaw'));
  upstream = await startUpstream();

  // `openclaw gateway` exactly: no --port, no --bind; the token and the upstream come from the environment.
  const child = spawn('openclaw', ['gateway'], {
    env: shellEnv({
      OPENCLAW_GATEWAY_ALLOW_LOOPBACK: 'false', // so the curl example's bearer token is what lets it in
      OPENCLAW_UPSTREAM_URL: upstream.url,
      OPENCLAW_STATE_DIR: join(workDir, 'state'),
      OPENCLAW_METRICS_PORT: '0',
      OPENCLAW_SHUTDOWN_DRAIN_SECONDS: '0',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gatewayProcess = child;
  gatewayExited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"gateway listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => reject(new Error(`gateway exited: ${output}`)));
  });
}, 60_000);

afterAll(async () => {
  if (gatewayProcess && gatewayProcess.exitCode === null) {
    gatewayProcess.kill('SIGKILL');
    await gatewayExited;
  }
  await upstream?.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('openclaw gateway with no flags', () => {
  it('listens on 127.0.0.1:18789 and [::1]:18789, where `openclaw config get` says it does', async () => {
    for (const host of ['127.0.0.1', '[::1]']) {
      const response = await fetch(`http://${host}:${DEFAULT_PORT}/healthz`);
      expect(await response.json()).toEqual({ status: 'ok' });
    }
    const bind = await sh('openclaw config get gateway.bind');
    const port = await sh('openclaw config get gateway.port');
    expect([bind.code, bind.stdout]).toEqual([0, 'loopback\n']);
    expect([port.code, port.stdout]).toEqual([0, `${DEFAULT_PORT}\n`]);
  });

  it('`openclaw status` with no --url reaches it (default URL) with OPENCLAW_GATEWAY_TOKEN', async () => {
    const status = await sh('openclaw status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`Gateway at ${DEFAULT_URL}: ready`);
    expect(status.stdout).toMatch(/port\s+18789/);
    expect(status.stdout).toMatch(/bind\s+loopback/);
  });
});

describe('AUTHENTICATION.md shell examples', () => {
  it('the curl example works as written', async () => {
    const before = upstream.requests.length;
    const result = await sh(CURL_EXAMPLE);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as { object: string; choices: Array<{ message: { content: string } }> };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]!.message.content).toBe('echo: Hello');
    expect(upstream.requests.length).toBe(before + 1);
    // the token is what let it in: the same request with another token is refused
    const wrong = await sh(`${CURL_EXAMPLE.replace('your-token-here', 'not-the-token')} -s -o /dev/null -w '%{http_code}'`);
    expect(wrong.stdout).toBe('401');
  });

  it('`openclaw logs | grep "auth failed"` finds failed authentications of both transports', async () => {
    const http = await sh(`curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.41 -H "Authorization: Bearer wrong-http" ${DEFAULT_URL}/v1/models`);
    expect(http.stdout).toBe('401');
    const ws = await openRpc(`ws://127.0.0.1:${DEFAULT_PORT}/`, { localAddress: '127.0.0.42' });
    expect((await ws.call('connect', { role: 'control', auth: { token: 'wrong-ws' } })).error?.code).toBe(-32001);
    await ws.closed;

    const result = await sh('openclaw logs | grep "auth failed"');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.every((line) => line.msg === 'auth failed')).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ clientIp: '127.0.0.41', transport: 'http', path: '/v1/models' }));
    expect(lines).toContainEqual(expect.objectContaining({ clientIp: '127.0.0.42', transport: 'ws' }));
    expect(result.stdout).not.toMatch(/wrong-http|wrong-ws|your-token-here/);
  });

  it('"Connection refused" troubleshooting: `openclaw status` says so once the gateway is gone', async () => {
    gatewayProcess!.kill('SIGTERM');
    expect(await gatewayExited).toBe(0);
    const status = await sh('openclaw status');
    expect(status.code).toBe(1);
    expect(status.stderr).toBe(`Gateway not reachable at ${DEFAULT_URL}: connection refused\n`);
    const direct = await runCli(['status']);
    expect(direct.stderr.trim()).toBe(`Gateway not reachable at ${DEFAULT_URL}: connection refused`);
  });
});
