import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../../../src/cluster/LocalBus.js';
import type { BusEnvelope } from '../../../src/cluster/types.js';
import { GatewayError } from '../../../src/errors.js';
import { PairingService } from '../../../src/pairing/PairingService.js';
import { hashToken } from '../../../src/pairing/tokens.js';
import type { ResolvedAnswer } from '../../../src/pairing/types.js';
import { EmbeddedStore } from '../../../src/store/embedded/EmbeddedStore.js';
import { StoreUnavailableError } from '../../../src/store/types.js';
import type { Notifier, NotifyTarget } from '../../../src/ws/Notifier.js';

/** Records what the service asked the WebSocket layer to do (the ws/ Notifier is another module). */
class RecordingNotifier implements Notifier {
  readonly notifications: Array<{ target: NotifyTarget; method: string; params: unknown }> = [];
  readonly closes: Array<{ deviceId: string; code: number; reason: string; tokenHash: string | undefined }> = [];
  async notify(target: NotifyTarget, method: string, params: unknown): Promise<void> {
    this.notifications.push({ target, method, params });
  }
  async closeDeviceSessions(deviceId: string, code: number, reason: string, tokenHash?: string): Promise<void> {
    this.closes.push({ deviceId, code, reason, tokenHash });
  }
  sentTo(sessionId: string, method: string): unknown[] {
    return this.notifications
      .filter((n) => 'sessionId' in n.target && n.target.sessionId === sessionId && n.method === method)
      .map((n) => n.params);
  }
}

class UnavailableStore extends EmbeddedStore {
  override async createPairingRequest(): Promise<never> {
    throw new StoreUnavailableError('redis down');
  }
  override async listDevices(): Promise<never> {
    throw new StoreUnavailableError('redis down');
  }
}

const CONTROL = { clientIp: '127.0.0.1', sessionId: 'control-1', role: 'control' as const, identity: 'local' };

async function expectGatewayError(promise: Promise<unknown>, type: string): Promise<GatewayError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).type).toBe(type);
  return error as GatewayError;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('PairingService (embedded store, local bus)', () => {
  let stateDir: string;
  let store: EmbeddedStore;
  let bus: LocalBus;
  let notifier: RecordingNotifier;
  let logLines: string[];
  let clock: number;
  let service: PairingService;
  let busEvents: BusEnvelope[];

  function build(storeToUse: EmbeddedStore = store): PairingService {
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
    const built = new PairingService({ store: storeToUse, bus, notifier, logger, ttlSeconds: 300, now: () => clock });
    built.start();
    return built;
  }

  beforeEach(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'openclaw-pairing-'));
    clock = Date.now();
    store = new EmbeddedStore(stateDir, () => clock);
    await store.start();
    bus = new LocalBus('replica-a');
    notifier = new RecordingNotifier();
    logLines = [];
    busEvents = [];
    bus.subscribe('device.invalidate', (envelope) => busEvents.push(envelope));
    bus.subscribe('pairing.resolved', (envelope) => busEvents.push(envelope));
    service = build();
  });

  afterEach(async () => {
    service.stop();
    await store.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const requestFrom = (sessionId: string, clientIp = '127.0.0.2', params: Record<string, unknown> = {}) =>
    service.request({ displayName: 'Kitchen tablet', platform: 'android', ...params }, { clientIp, sessionId });

  it('creates a pending request, answers with a claim secret and tells control sessions without secrets', async () => {
    const answer = await requestFrom('device-session', '127.0.0.2', { deviceId: 'kitchen.tablet-1' });
    expect(answer).toMatchObject({ deviceId: 'kitchen.tablet-1', status: 'pending', expiresAt: clock + 300_000 });
    expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.claimSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const [notification] = notifier.notifications;
    expect(notification?.target).toEqual({ role: 'control' });
    expect(notification?.method).toBe('node.pair.requested');
    expect(notification?.params).toEqual({
      request: {
        requestId: answer.requestId,
        deviceId: 'kitchen.tablet-1',
        displayName: 'Kitchen tablet',
        platform: 'android',
        clientIp: '127.0.0.2',
        status: 'pending',
        createdAt: clock,
        expiresAt: clock + 300_000,
      },
    });
    const stored = await store.getPairingRequest(answer.requestId);
    expect(stored?.claimSecretHash).toBe(hashToken(answer.claimSecret));
    expect(JSON.stringify(stored)).not.toContain(answer.claimSecret);
    expect((await service.listPending()).requests.map((r) => r.requestId)).toEqual([answer.requestId]);
  });

  it('generates a device id when none is given', async () => {
    const answer = await requestFrom('s');
    expect(answer.deviceId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
  });

  it('refuses invalid params as invalid_request', async () => {
    const caller = { clientIp: '127.0.0.2' };
    for (const params of [
      {},
      { displayName: '' },
      { displayName: '   ' },
      { displayName: 'x'.repeat(101) },
      { displayName: 7 },
      { displayName: 'ok', deviceId: 'has space' },
      { displayName: 'ok', deviceId: 'x'.repeat(65) },
      { displayName: 'ok', deviceId: '' },
      { displayName: 'ok', platform: 5 },
    ]) {
      await expectGatewayError(service.request(params, caller), 'invalid_request');
    }
    expect((await service.request({ displayName: 'x'.repeat(100) }, caller)).status).toBe('pending');
    await expectGatewayError(service.approve(undefined, CONTROL), 'invalid_request');
    await expectGatewayError(service.claim('id', 'not-a-secret'), 'invalid_request');
    await expectGatewayError(service.rotateToken('bad id', CONTROL), 'invalid_request');
  });

  it('allows 3 pending requests per client IP and 100 in all', async () => {
    for (let i = 0; i < 3; i++) await requestFrom(`s${i}`, '127.0.0.9');
    const limited = await expectGatewayError(requestFrom('s4', '127.0.0.9'), 'rate_limited');
    expect(limited.rpcCode).toBe(-32002);
    expect(limited.extra.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((await requestFrom('other', '127.0.0.10')).status).toBe('pending');

    for (let i = 4; i < 100; i++) await requestFrom(`t${i}`, `203.0.113.${i}`);
    expect((await service.listPending()).requests).toHaveLength(100);
    await expectGatewayError(requestFrom('last', '127.0.0.50'), 'rate_limited');
    expect(logLines.join('\n')).toContain('pairing request refused');
  });

  it('approves once: creates the device with the token hash and delivers the token only to the requester', async () => {
    const answer = await requestFrom('device-session');
    const approved = await service.approve(answer.requestId, CONTROL);
    expect(approved).toEqual({ deviceId: answer.deviceId, approvedAt: clock });
    expect(JSON.stringify(approved)).not.toMatch(/token/i);
    await flush();

    const [resolved] = notifier.sentTo('device-session', 'node.pair.resolved') as ResolvedAnswer[];
    expect(resolved).toMatchObject({ requestId: answer.requestId, status: 'approved', deviceId: answer.deviceId });
    expect(resolved?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const device = await store.findDeviceByTokenHash(hashToken(resolved!.token!));
    expect(device?.deviceId).toBe(answer.deviceId);
    expect(notifier.notifications.filter((n) => n.method === 'node.pair.resolved')).toHaveLength(1);

    const published = busEvents.filter((e) => e.topic === 'pairing.resolved');
    expect(published.map((e) => e.payload)).toEqual([{ requestId: answer.requestId, status: 'approved', deviceId: answer.deviceId }]);
    expect(JSON.stringify(busEvents)).not.toContain(resolved!.token!);

    await expectGatewayError(service.approve(answer.requestId, CONTROL), 'conflict');
    await expectGatewayError(service.reject(answer.requestId, CONTROL), 'conflict');
    expect((await service.listDevices()).devices).toEqual([
      { deviceId: answer.deviceId, displayName: 'Kitchen tablet', platform: 'android', createdAt: clock, lastSeenAt: null },
    ]);
  });

  it('lets exactly one of many concurrent approvals win', async () => {
    for (let round = 0; round < 20; round++) {
      const answer = await requestFrom(`s${round}`, `127.0.1.${round}`);
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => service.approve(answer.requestId, CONTROL)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const result of results.filter((r) => r.status === 'rejected')) {
        expect(((result as PromiseRejectedResult).reason as GatewayError).type).toBe('conflict');
      }
    }
    expect((await service.listDevices()).devices).toHaveLength(20);
  });

  it('answers not_found for unknown and expired requests', async () => {
    await expectGatewayError(service.approve('no-such-request', CONTROL), 'not_found');
    const answer = await requestFrom('s');
    clock += 300_000;
    const expired = await expectGatewayError(service.approve(answer.requestId, CONTROL), 'not_found');
    expect(expired.rpcCode).toBe(-32005);
    await expectGatewayError(service.reject(answer.requestId, CONTROL), 'not_found');
    await expectGatewayError(service.claim(answer.requestId, answer.claimSecret), 'not_found');
    expect((await service.listPending()).requests).toEqual([]);
  });

  it('rejects: the requester hears it, a claim says rejected, no device is created', async () => {
    const answer = await requestFrom('device-session');
    expect(await service.reject(answer.requestId, CONTROL)).toEqual({ status: 'rejected' });
    await flush();
    expect(notifier.sentTo('device-session', 'node.pair.resolved')).toEqual([
      { requestId: answer.requestId, status: 'rejected', deviceId: answer.deviceId },
    ]);
    expect(await service.claim(answer.requestId, answer.claimSecret)).toEqual({
      requestId: answer.requestId,
      status: 'rejected',
      deviceId: answer.deviceId,
    });
    expect((await service.listDevices()).devices).toEqual([]);
  });

  it('hands the token out by claim at most once, only for the right claim secret', async () => {
    const answer = await requestFrom('gone-session');
    service.deliveries.forgetSession('gone-session');
    expect(await service.claim(answer.requestId, answer.claimSecret)).toEqual({
      requestId: answer.requestId,
      status: 'pending',
      deviceId: answer.deviceId,
    });
    await service.approve(answer.requestId, CONTROL);
    await flush();
    expect(notifier.sentTo('gone-session', 'node.pair.resolved')).toEqual([]);

    const wrong = await expectGatewayError(
      service.claim(answer.requestId, 'A'.repeat(43)),
      'forbidden',
    );
    expect(wrong.rpcCode).toBe(-32003);
    await expectGatewayError(service.claim('unknown-request', answer.claimSecret), 'not_found');

    const first = await service.claim(answer.requestId, answer.claimSecret);
    expect(first.status).toBe('approved');
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await store.findDeviceByTokenHash(hashToken(first.token!)))?.deviceId).toBe(answer.deviceId);

    const second = await service.claim(answer.requestId, answer.claimSecret);
    expect(second).toEqual({ requestId: answer.requestId, status: 'approved', deviceId: answer.deviceId });
  });

  it('a live delivery still leaves one claim for a requester whose connection dropped', async () => {
    const answer = await requestFrom('device-session');
    await service.approve(answer.requestId, CONTROL);
    await flush();
    const [live] = notifier.sentTo('device-session', 'node.pair.resolved') as ResolvedAnswer[];
    const claimed = await service.claim(answer.requestId, answer.claimSecret);
    expect(claimed.token).toBe(live?.token);
    expect((await service.claim(answer.requestId, answer.claimSecret)).token).toBeUndefined();
  });

  async function pairDevice(deviceId: string): Promise<string> {
    const answer = await requestFrom(`${deviceId}-session`, '127.0.3.1', { deviceId });
    await service.approve(answer.requestId, CONTROL);
    const claimed = await service.claim(answer.requestId, answer.claimSecret);
    return claimed.token!;
  }

  it('rotates a token: new hash stored, old one invalidated on the bus, its sessions closed with 4001', async () => {
    const oldToken = await pairDevice('phone');
    busEvents.length = 0;
    const rotated = await service.rotateToken('phone', CONTROL);
    expect(rotated.deviceId).toBe('phone');
    expect(rotated.token).not.toBe(oldToken);
    expect(await store.findDeviceByTokenHash(hashToken(oldToken))).toBeNull();
    expect((await store.findDeviceByTokenHash(hashToken(rotated.token)))?.deviceId).toBe('phone');
    expect(busEvents.map((e) => [e.topic, e.payload])).toEqual([
      ['device.invalidate', { deviceId: 'phone', tokenHash: hashToken(oldToken) }],
    ]);
    expect(notifier.closes).toEqual([{ deviceId: 'phone', code: 4001, reason: 'token rotated', tokenHash: hashToken(oldToken) }]);
  });

  it('lets a node rotate only its own token, and closes its session only after answering', async () => {
    await pairDevice('phone');
    await pairDevice('watch');
    const node = { clientIp: '127.0.3.1', sessionId: 'n1', role: 'node' as const, deviceId: 'phone', identity: 'device:phone' };
    await expectGatewayError(service.rotateToken('watch', node), 'forbidden');
    const rotated = await service.rotateToken('phone', node);
    expect(rotated.deviceId).toBe('phone');
    expect(notifier.closes).toEqual([]);
    await flush();
    expect(notifier.closes.map((c) => [c.deviceId, c.code])).toEqual([['phone', 4001]]);
    await expectGatewayError(service.rotateToken('ghost', CONTROL), 'not_found');
  });

  it('revokes a device: removed, invalidated, every session of it closed', async () => {
    const token = await pairDevice('phone');
    busEvents.length = 0;
    expect(await service.revoke('phone', CONTROL)).toEqual({ deviceId: 'phone', status: 'revoked' });
    expect(await store.getDevice('phone')).toBeNull();
    expect(await store.findDeviceByTokenHash(hashToken(token))).toBeNull();
    expect(busEvents.map((e) => e.payload)).toEqual([{ deviceId: 'phone', tokenHash: hashToken(token) }]);
    expect(notifier.closes).toEqual([{ deviceId: 'phone', code: 4001, reason: 'device revoked', tokenHash: undefined }]);
    await expectGatewayError(service.revoke('phone', CONTROL), 'not_found');
  });

  it('re-pairing an existing device id invalidates the previous token', async () => {
    const first = await pairDevice('phone');
    busEvents.length = 0;
    const second = await pairDevice('phone');
    expect(second).not.toBe(first);
    expect(await store.findDeviceByTokenHash(hashToken(first))).toBeNull();
    expect(busEvents.filter((e) => e.topic === 'device.invalidate').map((e) => e.payload)).toEqual([
      { deviceId: 'phone', tokenHash: hashToken(first) },
    ]);
  });

  it('maps an unavailable store to unavailable (-32007)', async () => {
    service.stop();
    const down = new UnavailableStore(stateDir, () => clock);
    service = build(down);
    const error = await expectGatewayError(requestFrom('s'), 'unavailable');
    expect(error.rpcCode).toBe(-32007);
    await expectGatewayError(service.listDevices(), 'unavailable');
  });

  it('logs every event by its stable msg and never a token or claim secret', async () => {
    const answer = await requestFrom('device-session', '127.0.0.2', { deviceId: 'phone' });
    await service.approve(answer.requestId, CONTROL);
    const claimed = await service.claim(answer.requestId, answer.claimSecret);
    const rejectedRequest = await requestFrom('other', '127.0.0.3');
    await service.reject(rejectedRequest.requestId, CONTROL);
    const rotated = await service.rotateToken('phone', CONTROL);
    await service.revoke('phone', CONTROL);
    await flush();

    const messages = logLines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    for (const msg of ['pairing requested', 'pairing approved', 'pairing rejected', 'device token rotated', 'device revoked']) {
      expect(messages).toContain(msg);
    }
    const [live] = notifier.sentTo('device-session', 'node.pair.resolved') as ResolvedAnswer[];
    const everything = logLines.join('\n');
    for (const secret of [answer.claimSecret, rejectedRequest.claimSecret, claimed.token!, rotated.token, live!.token!]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('keeps no token or claim secret in the state dir (file mode 0600)', async () => {
    const answer = await requestFrom('device-session', '127.0.0.2', { deviceId: 'phone' });
    await service.approve(answer.requestId, CONTROL);
    const claimed = await service.claim(answer.requestId, answer.claimSecret);
    const rotated = await service.rotateToken('phone', CONTROL);
    await store.close();
    const files = readdirSync(stateDir);
    expect(files).toContain('devices.json');
    for (const file of files) {
      const path = join(stateDir, file);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const content = readFileSync(path, 'utf8');
      for (const secret of [answer.claimSecret, claimed.token!, rotated.token]) expect(content).not.toContain(secret);
    }
    expect(readFileSync(join(stateDir, 'devices.json'), 'utf8')).toContain(hashToken(rotated.token));
    await store.start();
  });
});
