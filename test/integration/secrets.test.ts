// Secrets end to end: one gateway with Redis, a token, a password, an upstream API key, tracing and
// metrics on is put through everything (HTTP auth, WebSocket connect, pairing, claim, rotation, chat);
// then every byte it wrote anywhere is searched for the token, the password, the upstream key, the
// device tokens and the claim secrets.
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { bearer, fetchFrom } from '../helpers/http.js';
import { httpRequest } from '../helpers/httpRequest.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlpReceiver.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { connectRpc, openRpc, type RpcClient } from '../helpers/wsRpc.js';

const TOKEN = 'tok-5f0d9c1e7b3a4e2d8c6b0a9f1e3d5c7b';
const PASSWORD = 'pw-Correct-Horse-Battery-Staple-42';
const API_KEY = 'sk-upstream-0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const NOT_LOOPBACK = { 'x-forwarded-for': '203.0.113.77' };

let redis: RedisServer;
let upstream: TestUpstream;
let receiver: OtlpReceiver;
let gw: GatewayProcess;
let metricsUrl: string;
const clients: RpcClient[] = [];
const track = (client: RpcClient) => (clients.push(client), client);
/** Device tokens and claim secrets handed out during the run. */
const issued: string[] = [];

beforeAll(async () => {
  [redis, upstream, receiver] = await Promise.all([startRedis(), startUpstream(), startOtlpReceiver()]);
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  gw = await startGateway({
    env: {
      OPENCLAW_METRICS_PORT: String(metricsPort),
      OPENCLAW_LOG_LEVEL: 'trace', // the most a gateway ever logs
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
    config: {
      auth: { token: TOKEN, password: PASSWORD },
      trustedProxies: ['127.0.0.1'],
      redis: { url: redis.url, keyPrefix: 'secrets-test:' },
      upstream: { url: upstream.url, apiKey: API_KEY, model: 'upstream-model' },
    },
  });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await gw?.kill();
  await Promise.all([redis?.stop(), upstream?.close(), receiver?.close()]);
});

async function exerciseEverything(): Promise<void> {
  // HTTP: token, password, both headers, failures
  for (const headers of [bearer(TOKEN), bearer(PASSWORD), { 'x-openclaw-token': TOKEN }]) {
    expect((await httpRequest(`${gw.url}/v1/whoami`, { headers: { ...headers, ...NOT_LOOPBACK } })).status).toBe(200);
  }
  for (const headers of [bearer(`${TOKEN}x`), bearer(PASSWORD.slice(0, -1)), { 'x-openclaw-token': `${TOKEN} x` }, {}] as Array<Record<string, string>>) {
    expect((await httpRequest(`${gw.url}/v1/whoami`, { headers: { ...headers, ...NOT_LOOPBACK } })).status).toBe(401);
  }
  expect((await httpRequest(`${gw.url}/v1/models?token=${TOKEN}`)).status).toBe(400);

  // WebSocket: token, password, a wrong secret
  const { client: control } = await connectRpc(gw.wsUrl, { role: 'control', auth: { token: TOKEN } }, { headers: NOT_LOOPBACK });
  track(control);
  track((await connectRpc(gw.wsUrl, { role: 'webchat', auth: { token: PASSWORD } }, { headers: NOT_LOOPBACK })).client);
  const wrong = track(await openRpc(gw.wsUrl, { headers: NOT_LOOPBACK }));
  expect((await wrong.call('connect', { role: 'control', auth: { token: `${PASSWORD}!` } })).error?.code).toBe(-32001);

  // pairing: the requester gets its token pushed; a second device claims its token after reconnecting
  const device = track(await openRpc(gw.wsUrl, { headers: { 'x-forwarded-for': '203.0.113.78' } }));
  const requested = (await device.call('node.pair.request', { displayName: 'Phone', platform: 'ios' })).result as { requestId: string; claimSecret: string; deviceId: string };
  issued.push(requested.claimSecret);
  await control.call('node.pair.approve', { requestId: requested.requestId });
  const pushed = (await device.waitForNotification('node.pair.resolved')).params as { token: string };
  issued.push(pushed.token);

  const lost = track(await openRpc(gw.wsUrl, { headers: { 'x-forwarded-for': '203.0.113.79' } }));
  const second = (await lost.call('node.pair.request', { displayName: 'Laptop' })).result as { requestId: string; claimSecret: string; deviceId: string };
  issued.push(second.claimSecret);
  lost.close();
  await control.call('node.pair.approve', { requestId: second.requestId });
  const claimer = track(await openRpc(gw.wsUrl, { headers: { 'x-forwarded-for': '203.0.113.79' } }));
  const claimed = (await claimer.call('node.pair.claim', { requestId: second.requestId, claimSecret: second.claimSecret })).result as { token: string };
  issued.push(claimed.token);
  const wrongClaim = await claimer.call('node.pair.claim', { requestId: second.requestId, claimSecret: `${second.claimSecret.slice(0, -2)}AA` });
  expect(wrongClaim.result ?? wrongClaim.error).toBeDefined();

  // device token over HTTP and WebSocket, then rotation by the device itself and by control
  expect((await fetchFrom('127.0.0.80', `${gw.url}/v1/whoami`, { headers: { ...bearer(pushed.token), ...NOT_LOOPBACK } })).status).toBe(200);
  const { client: node } = await connectRpc(gw.wsUrl, { role: 'node', auth: { token: pushed.token } }, { headers: NOT_LOOPBACK });
  track(node);
  const selfRotated = (await node.call('device.token.rotate', { deviceId: requested.deviceId })).result as { token: string };
  issued.push(selfRotated.token);
  const controlRotated = (await control.call('device.token.rotate', { deviceId: second.deviceId })).result as { token: string };
  issued.push(controlRotated.token);
  expect((await httpRequest(`${gw.url}/v1/whoami`, { headers: { ...bearer(pushed.token), ...NOT_LOOPBACK } })).status).toBe(401);
  expect((await httpRequest(`${gw.url}/v1/whoami`, { headers: { ...bearer(controlRotated.token), ...NOT_LOOPBACK } })).status).toBe(200);
  await control.call('device.token.revoke', { deviceId: second.deviceId });

  // chat over HTTP (plain and streamed) and WebSocket, with a device token and the gateway token
  const chat = (stream: boolean) => JSON.stringify({ model: 'openclaw', stream, messages: [{ role: 'user', content: 'hello' }] });
  for (const [secret, stream] of [[TOKEN, false], [selfRotated.token, true]] as const) {
    const response = await httpRequest(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(secret), ...NOT_LOOPBACK, 'content-type': 'application/json' },
      body: chat(stream),
    });
    expect(response.status).toBe(200);
  }
  expect((await control.call('chat.completions', JSON.parse(chat(true)))).result).toBeDefined();
  expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${API_KEY}`); // the key is really in use

  // a hook, the log tail, status
  expect((await httpRequest(`${gw.url}/hooks/deploy`, { method: 'POST', headers: { ...bearer(TOKEN), ...NOT_LOOPBACK, 'content-type': 'application/json' }, body: '{"ok":1}' })).status).toBe(202);
  await control.call('logs.tail', { lines: 50 });
  expect((await runCli(['status'], { env: { OPENCLAW_GATEWAY_URL: gw.url, OPENCLAW_GATEWAY_TOKEN: TOKEN } })).code).toBe(0);
}

/** Every key and value under any prefix: strings, hashes, sets, sorted sets, lists, streams, and each key's DUMP. */
async function everythingInRedis(): Promise<Buffer> {
  const client = new Redis(redis.url, { lazyConnect: true });
  await client.connect();
  const chunks: Buffer[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scanBuffer(cursor, 'COUNT', 1000);
      cursor = String(next);
      for (const key of keys) {
        chunks.push(key);
        const type = await client.type(key);
        if (type === 'string') chunks.push((await client.getBuffer(key)) ?? Buffer.alloc(0));
        if (type === 'hash') for (const value of await client.hgetallBuffer(key).then((h) => Object.entries(h).flat())) chunks.push(Buffer.from(value));
        if (type === 'set') chunks.push(...(await client.smembersBuffer(key)));
        if (type === 'zset') chunks.push(...(await client.zrangeBuffer(key, 0, -1, 'WITHSCORES')));
        if (type === 'list') chunks.push(...(await client.lrangeBuffer(key, 0, -1)));
        if (type === 'stream') chunks.push(Buffer.from(JSON.stringify(await client.xrange(key, '-', '+'))));
        const dumped = await client.dumpBuffer(key);
        if (dumped) chunks.push(dumped);
      }
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return Buffer.concat(chunks);
}

function filesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return entries.map((entry) => join(dir, entry)).filter((path) => statSync(path).isFile());
}

describe('secrets never leave the gateway', () => {
  it('are in none of: stdout/stderr, openclaw logs, exported spans, /metrics, Redis keys and values, state files', async () => {
    await exerciseEverything();
    expect(issued).toHaveLength(6);
    const secrets: Record<string, string> = { token: TOKEN, password: PASSWORD, upstreamApiKey: API_KEY };
    issued.forEach((value, index) => (secrets[`issued#${index}`] = value));

    await receiver.waitForSpans((spans) => spans.some((span) => span.name.includes('chat')), 10_000).catch(() => undefined);
    const logsCommand = await runCli(['logs', '-n', '2000'], { env: { OPENCLAW_GATEWAY_URL: gw.url, OPENCLAW_GATEWAY_TOKEN: TOKEN } });
    expect(logsCommand.code).toBe(0);
    const metrics = await httpRequest(metricsUrl);
    expect(metrics.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the last spans' export
    await gw.settled();
    const places: Record<string, Buffer> = {
      'gateway stdout': Buffer.from(gw.lines.join('\n')),
      'gateway stderr': Buffer.from(gw.stderr()),
      'openclaw logs': Buffer.from(logsCommand.stdout + logsCommand.stderr),
      'exported spans': Buffer.from(receiver.payloads.join('\n')),
      '/metrics': Buffer.from(metrics.body),
      redis: await everythingInRedis(),
    };
    for (const file of filesUnder(gw.stateDir)) {
      places[`state file ${file}`] = readFileSync(file);
      expect(statSync(file).mode & 0o077, `${file} is readable by others`).toBe(0);
    }
    // the search must be able to find something: the run left real traces everywhere
    expect(places['gateway stdout']!.toString()).toContain('auth failed');
    expect(places['exported spans']!.length).toBeGreaterThan(0);
    expect(places.redis!.toString('latin1')).toContain('secrets-test:');
    // the device records are in what was searched: the current token's SHA-256 is there, the token is not
    expect(places.redis!.includes(createHash('sha256').update(issued[4]!).digest('hex'))).toBe(true);

    const leaks: string[] = [];
    for (const [place, bytes] of Object.entries(places)) {
      for (const [name, secret] of Object.entries(secrets)) {
        for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) {
          if (bytes.includes(form)) leaks.push(`${name} in ${place}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  }, 60_000);
});

describe('the embedded store state dir', () => {
  it('holds 0600 files without tokens or claim secrets', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'openclaw-secrets-state-'));
    const embedded = await startGateway({ stateDir });
    try {
      const device = track(await openRpc(embedded.wsUrl, { localAddress: '127.0.0.81' }));
      const requested = (await device.call('node.pair.request', { displayName: 'Lamp' })).result as { requestId: string; claimSecret: string; deviceId: string };
      const { client: control } = await connectRpc(embedded.wsUrl, { role: 'control' });
      track(control);
      await control.call('node.pair.approve', { requestId: requested.requestId });
      const { token } = (await device.waitForNotification('node.pair.resolved')).params as { token: string };
      const rotated = (await control.call('device.token.rotate', { deviceId: requested.deviceId })).result as { token: string };
      await embedded.stop();
      const files = filesUnder(stateDir);
      expect(files.length).toBeGreaterThan(0);
      expect(statSync(stateDir).mode & 0o077).toBe(0);
      for (const file of files) {
        expect(statSync(file).mode & 0o777, file).toBe(0o600);
        const content = readFileSync(file);
        for (const secret of [token, rotated.token, requested.claimSecret]) expect(content.includes(secret), `${secret} in ${file}`).toBe(false);
      }
    } finally {
      await embedded.kill();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('a world-readable config file holding secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-secrets-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gets a warning at start naming the file and the keys, never the values', async () => {
    const file = join(dir, 'world-readable.yaml');
    writeFileSync(file, toYaml({ gateway: { auth: { token: TOKEN }, upstream: { apiKey: API_KEY } } }));
    chmodSync(file, 0o644);
    const warned = await startGateway({ args: ['--config', file] });
    try {
      const stderr = warned.stderr();
      expect(stderr).toContain(`config file ${file} is readable by every user and holds secrets (gateway.auth.token, gateway.upstream.apiKey)`);
      expect(stderr).not.toContain(TOKEN);
      expect(stderr).not.toContain(API_KEY);
    } finally {
      await warned.kill();
    }
  });

  it('says nothing for a 0600 file, or a world-readable one without secrets', async () => {
    const privateFile = join(dir, 'private.yaml');
    writeFileSync(privateFile, toYaml({ gateway: { auth: { token: TOKEN } } }));
    chmodSync(privateFile, 0o600);
    const publicFile = join(dir, 'public.yaml');
    writeFileSync(publicFile, toYaml({ gateway: { log: { level: 'info' } } }));
    chmodSync(publicFile, 0o644);
    for (const file of [privateFile, publicFile]) {
      const quiet = await startGateway({ args: ['--config', file] });
      try {
        expect(quiet.stderr()).not.toContain('readable by every user');
      } finally {
        await quiet.kill();
      }
    }
  });
});
