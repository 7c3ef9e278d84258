// Device pairing across three replicas sharing one Redis: any step may land on any replica.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { bearer, fetchFrom } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { connectRpc, openRpc, type RpcClient, type RpcResponse } from '../helpers/wsRpc.js';

const GATEWAY_TOKEN = 'pairing-cluster-test-gateway-token-0123456789';
/** Makes an HTTP request non-loopback without changing its client IP (the peer is not a trusted proxy). */
const NOT_LOOPBACK = { 'x-forwarded-for': '203.0.113.9' };

let redis: RedisServer;
let a: GatewayProcess;
let b: GatewayProcess;
let c: GatewayProcess;
const controls = new Map<GatewayProcess, RpcClient>();
const opened: RpcClient[] = [];
/** Every token and claim secret handed out, for the final no-plaintext checks. */
const secrets = new Set<string>();
let nextAddress = 10;

/** A distinct loopback source address per device, so the per-IP pending cap (3) never interferes. */
function freshAddress(): string {
  nextAddress += 1;
  return `127.0.${Math.floor(nextAddress / 250) + 10}.${(nextAddress % 250) + 1}`;
}

async function track<T extends RpcClient>(client: T): Promise<T> {
  opened.push(client);
  return client;
}

function resultOf<T = Record<string, unknown>>(response: RpcResponse): T {
  if (!response.result) throw new Error(`expected a result, got ${JSON.stringify(response.error)}`);
  return response.result as T;
}

interface RequestAnswer {
  requestId: string;
  deviceId: string;
  status: string;
  expiresAt: number;
  claimSecret: string;
}

async function requestPairing(replica: GatewayProcess, params: Record<string, unknown> = {}): Promise<{ device: RpcClient; answer: RequestAnswer }> {
  const device = await track(await openRpc(replica.wsUrl, { localAddress: freshAddress() }));
  const answer = resultOf<RequestAnswer>(await device.call('node.pair.request', { displayName: 'Test device', ...params }));
  secrets.add(answer.claimSecret);
  return { device, answer };
}

/** Request on one replica, approve on another, token from the live notification. */
async function pairDevice(requester: GatewayProcess, approver: GatewayProcess): Promise<{ deviceId: string; token: string }> {
  const { device, answer } = await requestPairing(requester, { platform: 'linux' });
  resultOf(await controls.get(approver)!.call('node.pair.approve', { requestId: answer.requestId }));
  const resolved = await device.waitForNotification('node.pair.resolved', (p) => (p as { requestId: string }).requestId === answer.requestId);
  const { token } = resolved.params as { token: string };
  secrets.add(token);
  device.close();
  return { deviceId: answer.deviceId, token };
}

function whoami(replica: GatewayProcess, token: string, from: string) {
  return fetchFrom(from, `${replica.url}/v1/whoami`, { headers: { ...bearer(token), ...NOT_LOOPBACK } });
}

async function connectNode(replica: GatewayProcess, token: string) {
  const { client, result } = await connectRpc(replica.wsUrl, { role: 'node', auth: { token } }, { localAddress: freshAddress() });
  await track(client);
  return { client, result };
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  redis = await startRedis();
  [a, b, c] = await Promise.all(
    ['a', 'b', 'c'].map((name) =>
      startGateway({
        env: { OPENCLAW_REDIS_URL: redis.url, OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN, OPENCLAW_REPLICA_ID: `replica-${name}` },
      }),
    ),
  ) as [GatewayProcess, GatewayProcess, GatewayProcess];
  for (const replica of [a, b, c]) {
    const { client } = await connectRpc(replica.wsUrl, { role: 'control' });
    controls.set(replica, await track(client));
  }
}, 60_000);

afterAll(async () => {
  for (const client of opened) client.close();
  await Promise.all([a, b, c].map((replica) => replica?.kill()));
  await redis?.stop();
});

describe('pairing across replicas', () => {
  it('request on A, notification on C, approve on B, token to the requester on A, usable on C (WS) and B (HTTP)', async () => {
    const controlC = controls.get(c)!;
    const { device, answer } = await requestPairing(a, { platform: 'ios', deviceId: 'phone-1' });
    expect(answer).toMatchObject({ deviceId: 'phone-1', status: 'pending' });
    expect(answer.requestId).toEqual(expect.any(String));
    expect(answer.claimSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(answer.expiresAt).toBeGreaterThan(Date.now());

    const requested = await controlC.waitForNotification('node.pair.requested', (p) => (p as { request: { requestId: string } }).request.requestId === answer.requestId);
    expect((requested.params as { request: Record<string, unknown> }).request).toMatchObject({
      requestId: answer.requestId,
      deviceId: 'phone-1',
      displayName: 'Test device',
      platform: 'ios',
      status: 'pending',
    });
    expect(JSON.stringify(requested.params)).not.toContain(answer.claimSecret);
    const pending = resultOf<{ requests: Array<{ requestId: string }> }>(await controls.get(b)!.call('node.pair.list', {}));
    expect(pending.requests.map((r) => r.requestId)).toContain(answer.requestId);

    const approved = resultOf(await controls.get(b)!.call('node.pair.approve', { requestId: answer.requestId }));
    expect(approved).toEqual({ deviceId: 'phone-1', approvedAt: expect.any(Number) });

    const resolved = await device.waitForNotification('node.pair.resolved');
    const { token, ...rest } = resolved.params as { token: string };
    expect(rest).toEqual({ requestId: answer.requestId, status: 'approved', deviceId: 'phone-1' });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    secrets.add(token);
    // The approver and the other control sessions never see the token.
    for (const control of controls.values()) expect(JSON.stringify(control.frames)).not.toContain(token);

    const { result } = await connectNode(c, token);
    expect(result).toMatchObject({ role: 'node', auth: { method: 'device', identity: 'device:phone-1' } });
    const http = await whoami(b, token, '127.0.1.1');
    expect(http.status).toBe(200);
    expect(await http.json()).toMatchObject({ method: 'device', identity: 'device:phone-1', role: 'node' });

    const devices = resultOf<{ devices: Array<Record<string, unknown>> }>(await controls.get(a)!.call('device.list', {}));
    expect(devices.devices.find((d) => d.deviceId === 'phone-1')).toMatchObject({
      displayName: 'Test device',
      platform: 'ios',
      createdAt: expect.any(Number),
    });
  });

  it('hands the token out by claim at most once, on any replica, to the claim secret only', async () => {
    const { device, answer } = await requestPairing(a);
    device.close();
    await device.closed;
    resultOf(await controls.get(c)!.call('node.pair.approve', { requestId: answer.requestId }));

    const claimer = await track(await openRpc(b.wsUrl, { localAddress: freshAddress() }));
    const wrong = await claimer.call('node.pair.claim', { requestId: answer.requestId, claimSecret: 'A'.repeat(43) });
    expect(wrong.error?.code).toBe(-32003);
    const first = resultOf<{ token?: string }>(await claimer.call('node.pair.claim', { requestId: answer.requestId, claimSecret: answer.claimSecret }));
    expect(first).toMatchObject({ requestId: answer.requestId, status: 'approved', deviceId: answer.deviceId });
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    secrets.add(first.token!);

    const again = await track(await openRpc(c.wsUrl, { localAddress: freshAddress() }));
    const second = resultOf(await again.call('node.pair.claim', { requestId: answer.requestId, claimSecret: answer.claimSecret }));
    expect(second).toEqual({ requestId: answer.requestId, status: 'approved', deviceId: answer.deviceId });

    const { result } = await connectNode(a, first.token!);
    expect(result).toMatchObject({ auth: { method: 'device', identity: `device:${answer.deviceId}` } });
  });

  it('answers -32005 for unknown requests and -32006 for resolved ones', async () => {
    const unknown = await controls.get(a)!.call('node.pair.approve', { requestId: 'no-such-request' });
    expect(unknown.error).toMatchObject({ code: -32005, data: { type: 'not_found' } });
    const { answer } = await requestPairing(b);
    resultOf(await controls.get(c)!.call('node.pair.reject', { requestId: answer.requestId }));
    const again = await controls.get(a)!.call('node.pair.approve', { requestId: answer.requestId });
    expect(again.error).toMatchObject({ code: -32006, data: { type: 'conflict' } });
  });

  it('refuses pairing administration to node sessions and before connect', async () => {
    const { token } = await pairDevice(a, b);
    const { client } = await connectNode(c, token);
    const approve = await client.call('node.pair.approve', { requestId: 'x' });
    expect(approve.error?.code).toBe(-32003);
    const list = await client.call('device.list', {});
    expect(list.error?.code).toBe(-32003);
    const anonymous = await track(await openRpc(a.wsUrl, { localAddress: freshAddress() }));
    expect((await anonymous.call('device.list', {})).error?.code).toBe(-32004);
    expect((await anonymous.call('node.pair.request', { displayName: '' })).error?.code).toBe(-32602);
  });

  it('lets exactly one of two approvals racing on B and C win, over many rounds', async () => {
    const [controlB, controlC] = [controls.get(b)!, controls.get(c)!];
    for (let round = 0; round < 4; round++) {
      const requests = await Promise.all(Array.from({ length: 10 }, (_, i) => requestPairing([a, b, c][i % 3]!)));
      const outcomes = await Promise.all(
        requests.map(({ answer }) =>
          Promise.all([
            controlB.call('node.pair.approve', { requestId: answer.requestId }),
            controlC.call('node.pair.approve', { requestId: answer.requestId }),
          ]),
        ),
      );
      for (const pair of outcomes) {
        expect(pair.filter((response) => response.result !== undefined)).toHaveLength(1);
        expect(pair.filter((response) => response.error?.code === -32006)).toHaveLength(1);
      }
      for (const { device } of requests) {
        const resolved = await device.waitForNotification('node.pair.resolved');
        secrets.add((resolved.params as { token: string }).token);
        expect(device.notifications.filter((n) => n.method === 'node.pair.resolved')).toHaveLength(1);
        device.close();
      }
    }
  });

  it('rotate on B closes the node session on A with 4001; the old token is 401 on every replica within 1 s', async () => {
    const { deviceId, token: oldToken } = await pairDevice(c, a);
    const { client: nodeOnA } = await connectNode(a, oldToken);
    // Warm every replica's device-token cache with the old token first.
    for (const [index, replica] of [a, b, c].entries()) expect((await whoami(replica, oldToken, `127.0.2.${index + 1}`)).status).toBe(200);

    const rotated = resultOf<{ deviceId: string; token: string }>(await controls.get(b)!.call('device.token.rotate', { deviceId }));
    const rotatedAt = Date.now();
    expect(rotated.deviceId).toBe(deviceId);
    expect(rotated.token).not.toBe(oldToken);
    secrets.add(rotated.token);

    const elapsed = await waitUntil(
      async () => {
        const statuses = await Promise.all([a, b, c].map((replica, index) => whoami(replica, oldToken, `127.0.2.${index + 1}`).then((r) => r.status)));
        return statuses.every((status) => status === 401);
      },
      1_000,
      'old token refused on every replica',
    );
    expect(Date.now() - rotatedAt).toBeLessThanOrEqual(1_000);
    expect(elapsed).toBeLessThanOrEqual(1_000);
    const closed = await Promise.race([nodeOnA.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('node session not closed')), 1_000))]);
    expect(closed.code).toBe(4001);

    for (const [index, replica] of [a, b, c].entries()) {
      const response = await whoami(replica, rotated.token, `127.0.3.${index + 1}`);
      expect(response.status).toBe(200);
    }
    const refused = await track(await openRpc(c.wsUrl, { localAddress: freshAddress() }));
    expect((await refused.call('connect', { role: 'node', auth: { token: oldToken } })).error?.code).toBe(-32001);
  });

  it('lets a node rotate its own token (answer first, then 4001) but no other device', async () => {
    const mine = await pairDevice(a, c);
    const other = await pairDevice(b, c);
    const { client } = await connectNode(b, mine.token);
    const refused = await client.call('device.token.rotate', { deviceId: other.deviceId });
    expect(refused.error?.code).toBe(-32003);
    const rotated = resultOf<{ deviceId: string; token: string }>(await client.call('device.token.rotate', { deviceId: mine.deviceId }));
    secrets.add(rotated.token);
    expect((await client.closed).code).toBe(4001);
    expect((await whoami(c, rotated.token, '127.0.4.1')).status).toBe(200);
  });

  it('revoke on A removes the device everywhere and closes its sessions on C with 4001', async () => {
    const { deviceId, token } = await pairDevice(b, c);
    const { client: nodeOnC } = await connectNode(c, token);
    expect((await whoami(b, token, '127.0.5.1')).status).toBe(200);
    expect(resultOf(await controls.get(a)!.call('device.token.revoke', { deviceId }))).toEqual({ deviceId, status: 'revoked' });
    expect((await nodeOnC.closed).code).toBe(4001);
    await waitUntil(
      async () => (await Promise.all([a, b, c].map((r, i) => whoami(r, token, `127.0.5.${i + 1}`).then((res) => res.status)))).every((s) => s === 401),
      1_000,
      'revoked token refused on every replica',
    );
    const devices = resultOf<{ devices: Array<{ deviceId: string }> }>(await controls.get(b)!.call('device.list', {}));
    expect(devices.devices.map((d) => d.deviceId)).not.toContain(deviceId);
    expect((await controls.get(c)!.call('device.token.revoke', { deviceId })).error?.code).toBe(-32005);
  });

  it('caps pending requests at 3 per client IP (-32002)', async () => {
    const address = freshAddress();
    const device = await track(await openRpc(a.wsUrl, { localAddress: address }));
    for (let i = 0; i < 3; i++) {
      const answer = resultOf<RequestAnswer>(await device.call('node.pair.request', { displayName: `cap ${i}` }));
      secrets.add(answer.claimSecret);
    }
    const fromB = await track(await openRpc(b.wsUrl, { localAddress: address }));
    const limited = await fromB.call('node.pair.request', { displayName: 'cap 3' });
    expect(limited.error).toMatchObject({ code: -32002, data: { type: 'rate_limited' } });
    expect(limited.error?.data.retryAfter).toBeGreaterThanOrEqual(1);
  });

  it('expires pending requests after gateway.pairing.ttlSeconds (-32005)', async () => {
    const shortLived = await startGateway({
      env: { OPENCLAW_REDIS_URL: redis.url, OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN, OPENCLAW_PAIRING_TTL_SECONDS: '1' },
    });
    try {
      const { answer } = await requestPairing(shortLived);
      expect(answer.expiresAt - Date.now()).toBeLessThanOrEqual(1_000);
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      const expired = await controls.get(b)!.call('node.pair.approve', { requestId: answer.requestId });
      expect(expired.error).toMatchObject({ code: -32005, data: { type: 'not_found' } });
      const claimer = await track(await openRpc(c.wsUrl, { localAddress: freshAddress() }));
      const claim = await claimer.call('node.pair.claim', { requestId: answer.requestId, claimSecret: answer.claimSecret });
      expect(claim.error?.code).toBe(-32005);
    } finally {
      await shortLived.kill();
    }
  });
});

describe('openclaw devices', () => {
  const cli = (replica: GatewayProcess, args: string[], token: string | undefined = GATEWAY_TOKEN) =>
    runCli(['devices', ...args, '--url', replica.url], { env: token ? { OPENCLAW_GATEWAY_TOKEN: token } : {} });

  it('pending, approve, list, rotate, revoke end to end, as tables and as JSON', async () => {
    const { device, answer } = await requestPairing(a, { displayName: 'CLI laptop', platform: 'macos', deviceId: 'cli-laptop' });

    const pendingTable = await cli(b, ['pending'], undefined);
    expect(pendingTable.code, pendingTable.stderr).toBe(0);
    expect(pendingTable.stdout).toMatch(/REQUEST ID\s+DEVICE ID\s+NAME/);
    expect(pendingTable.stdout).toContain(answer.requestId);
    expect(pendingTable.stdout).toContain('CLI laptop');
    const pendingJson = await cli(c, ['pending', '--json']);
    expect(pendingJson.code, pendingJson.stderr).toBe(0);
    expect((JSON.parse(pendingJson.stdout) as { requests: Array<{ requestId: string }> }).requests.map((r) => r.requestId)).toContain(answer.requestId);

    const approved = await cli(c, ['approve', answer.requestId]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain('cli-laptop');
    const resolved = await device.waitForNotification('node.pair.resolved');
    const { token } = resolved.params as { token: string };
    secrets.add(token);
    expect(approved.stdout).not.toContain(token);

    const list = await cli(a, ['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/DEVICE ID\s+NAME\s+PLATFORM/);
    expect(list.stdout).toMatch(/cli-laptop\s+CLI laptop\s+macos/);
    const listJson = JSON.parse((await cli(b, ['list', '--json'])).stdout) as { devices: Array<{ deviceId: string }> };
    expect(listJson.devices.map((d) => d.deviceId)).toContain('cli-laptop');

    const rotated = await cli(b, ['rotate', 'cli-laptop', '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const { token: newToken } = JSON.parse(rotated.stdout) as { deviceId: string; token: string };
    secrets.add(newToken);
    expect((await whoami(c, token, '127.0.6.1')).status).toBe(401);
    expect((await whoami(c, newToken, '127.0.6.2')).status).toBe(200);

    const revoked = await cli(a, ['revoke', 'cli-laptop']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('Revoked device cli-laptop');
    expect((await whoami(b, newToken, '127.0.6.3')).status).toBe(401);
    const after = JSON.parse((await cli(c, ['list', '--json'])).stdout) as { devices: Array<{ deviceId: string }> };
    expect(after.devices.map((d) => d.deviceId)).not.toContain('cli-laptop');

    const rejectable = await requestPairing(b);
    const rejected = await cli(a, ['reject', rejectable.answer.requestId]);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect((await rejectable.device.waitForNotification('node.pair.resolved')).params).toMatchObject({ status: 'rejected' });
  });

  it('fails clearly: usage (2), unknown request (1), bad token (1), unreachable (1)', async () => {
    const usage = await cli(a, ['approve']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('requestId');
    const unknown = await cli(a, ['approve', 'no-such-request']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not_found/);
    const badToken = await cli(a, ['list'], 'wrong-token-wrong-token-wrong-token');
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/refused the credentials/);
    const port = await freePort();
    const unreachable = await runCli(['devices', 'list', '--url', `http://127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toBe(`Gateway not reachable at http://127.0.0.1:${port}: connection refused`);
  });
});

describe('no plaintext secret at rest', () => {
  it('Redis (every key, every value), the state dirs and the logs hold no token or claim secret', async () => {
    expect(secrets.size).toBeGreaterThan(40);
    const client = new Redis(redis.url);
    const seen: string[] = [];
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'COUNT', 500);
        cursor = next;
        for (const key of keys) {
          seen.push(key);
          const type = await client.type(key);
          if (type === 'string') seen.push(String(await client.get(key)));
          else if (type === 'hash') seen.push(...Object.entries(await client.hgetall(key)).flat());
          else if (type === 'set') seen.push(...(await client.smembers(key)));
          else if (type === 'zset') seen.push(...(await client.zrange(key, 0, -1)));
          else if (type === 'list') seen.push(...(await client.lrange(key, 0, -1)));
          else if (type === 'stream') seen.push(JSON.stringify(await client.xrange(key, '-', '+')));
        }
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
    const dump = seen.join('\n');
    expect(dump).toContain('tokenHash');
    await Promise.all([a, b, c].map((replica) => replica.settled()));
    const logs = [a, b, c].map((replica) => replica.lines.join('\n')).join('\n');
    const stateFiles = [a, b, c].flatMap((replica) => filesUnder(replica.stateDir)).map((file) => readFileSync(file, 'utf8')).join('\n');
    for (const secret of secrets) {
      expect(dump.includes(secret), 'a secret is stored in Redis').toBe(false);
      expect(logs.includes(secret), 'a secret is in the logs').toBe(false);
      expect(stateFiles.includes(secret), 'a secret is in a state dir').toBe(false);
    }
  });
});

function filesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
