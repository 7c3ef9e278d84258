// One contract, every engine: the embedded store and the Redis store on standalone, Sentinel and Cluster
// must give the same answers to the same calls. Engine-specific behaviour (file persistence, key prefixes,
// Redis outages) follows the shared suite.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/embedded/EmbeddedStore.js';
import { RedisStore } from '../../src/store/redis/RedisStore.js';
import {
  RESOLVED_REQUEST_RETENTION_SECONDS,
  StoreUnavailableError,
  type DeviceRecord,
  type PairingLimits,
  type PairingRequest,
  type Store,
} from '../../src/store/types.js';
import {
  redisCommand,
  redisSettings,
  sharedRedis,
  startCluster,
  startRedis,
  startSentinel,
  type RedisServer,
  type RedisSettings,
  type SentinelSetup,
} from '../helpers/redis.js';

const LIMITS: PairingLimits = { perClientIp: 3, total: 100 };
const TTL_MS = 300_000;
const RETENTION_MS = RESOLVED_REQUEST_RETENTION_SECONDS * 1000;

// ---------------------------------------------------------------------------------------------
// Fixtures shared by every engine

/** A clock the test moves by hand (frozen at creation), or real time plus the offsets it was moved by. */
class TestClock {
  private offset = 0;
  constructor(private readonly frozenAt: number | null = Date.now()) {}
  readonly now = (): number => (this.frozenAt ?? Date.now()) + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}

interface OpenOptions {
  clock: TestClock;
  maxDevices?: number;
}

interface OpenedStore {
  store: Store;
  /** Another instance over the same state, as a second replica would have (the same instance for embedded). */
  peer(): Promise<Store>;
  /** Everything the engine stored durably, as text, for "no plaintext token" checks. */
  dump(): Promise<string>;
}

interface StoreHarness {
  /** A started store over a fresh, empty namespace. */
  open(options: OpenOptions): Promise<OpenedStore>;
  /** Closes what open() created. */
  closeAll(): Promise<void>;
  teardown(): Promise<void>;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function newToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: sha256(token) };
}

function device(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    deviceId: `dev-${randomUUID()}`,
    displayName: 'Pixel 9',
    platform: 'android',
    tokenHash: newToken().tokenHash,
    createdAt: Date.now(),
    lastSeenAt: null,
    ...overrides,
  };
}

function pairingRequest(clock: TestClock, overrides: Partial<PairingRequest> = {}) {
  const claimSecret = randomBytes(32).toString('base64url');
  const request: PairingRequest = {
    requestId: randomUUID(),
    deviceId: `dev-${randomUUID()}`,
    displayName: 'Laptop "ü" <x>',
    platform: 'macos',
    clientIp: '203.0.113.10',
    status: 'pending',
    createdAt: clock.now(),
    expiresAt: clock.now() + TTL_MS,
    claimSecretHash: sha256(claimSecret),
    sealedToken: null,
    resolvedAt: null,
    ...overrides,
  };
  return { request, claimSecret };
}

/** A sealed token as the pairing service would make it: nothing in it reveals the token. */
function sealed(): string {
  return `sealed.v1.${randomBytes(48).toString('base64url')}`;
}

function approval(clock: TestClock, request: PairingRequest, tokenHash = newToken().tokenHash) {
  const resolvedAt = clock.now();
  const approved: DeviceRecord = {
    deviceId: request.deviceId,
    displayName: request.displayName,
    platform: request.platform,
    tokenHash,
    createdAt: resolvedAt,
    lastSeenAt: null,
  };
  return { status: 'approved' as const, resolvedAt, sealedToken: sealed(), device: approved };
}

function rejection(clock: TestClock) {
  return { status: 'rejected' as const, resolvedAt: clock.now(), sealedToken: null, device: null };
}

// ---------------------------------------------------------------------------------------------
// The contract

function describeStoreContract(engine: string, setup: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${engine}`, () => {
    let harness: StoreHarness;
    let clock: TestClock;
    let opened: OpenedStore;
    let store: Store;

    beforeAll(async () => {
      harness = await setup();
    });
    afterAll(async () => {
      await harness?.teardown();
    });
    afterEach(async () => {
      await harness.closeAll();
    });

    async function fresh(options: Partial<OpenOptions> = {}): Promise<Store> {
      clock = options.clock ?? new TestClock();
      opened = await harness.open({ ...options, clock });
      store = opened.store;
      return store;
    }

    it('is ready once started', async () => {
      await fresh();
      expect(store.isReady()).toBe(true);
    });

    describe('devices', () => {
      it('saves, gets and lists devices ordered by creation time', async () => {
        await fresh();
        const later = device({ createdAt: 2_000, displayName: 'later', platform: '' });
        const earlier = device({ createdAt: 1_000, lastSeenAt: 1_500 });
        await store.saveDevice(later);
        await store.saveDevice(earlier);
        expect(await store.getDevice(later.deviceId)).toEqual(later);
        expect(await store.getDevice(earlier.deviceId)).toEqual(earlier);
        expect(await store.getDevice('dev-unknown')).toBeNull();
        expect(await store.listDevices()).toEqual([earlier, later]);
      });

      it('finds a device by token hash only while that hash is current', async () => {
        await fresh();
        const paired = device();
        await store.saveDevice(paired);
        expect(await store.findDeviceByTokenHash(paired.tokenHash)).toEqual(paired);
        expect(await store.findDeviceByTokenHash(newToken().tokenHash)).toBeNull();

        // saving the same device with a new hash retires the old one
        const resaved = { ...paired, tokenHash: newToken().tokenHash };
        await store.saveDevice(resaved);
        expect(await store.findDeviceByTokenHash(paired.tokenHash)).toBeNull();
        expect(await store.findDeviceByTokenHash(resaved.tokenHash)).toEqual(resaved);
        expect(await store.listDevices()).toEqual([resaved]);
      });

      it('replaces a token hash and reports the previous one', async () => {
        await fresh();
        const paired = device();
        await store.saveDevice(paired);
        const next = newToken().tokenHash;
        expect(await store.replaceDeviceToken(paired.deviceId, next)).toEqual({ previousTokenHash: paired.tokenHash });
        expect(await store.findDeviceByTokenHash(paired.tokenHash)).toBeNull();
        expect(await store.findDeviceByTokenHash(next)).toEqual({ ...paired, tokenHash: next });
        expect(await store.getDevice(paired.deviceId)).toEqual({ ...paired, tokenHash: next });
        expect(await store.replaceDeviceToken('dev-unknown', newToken().tokenHash)).toBeNull();
        expect(await store.getDevice('dev-unknown')).toBeNull();
      });

      it('touches lastSeenAt of known devices only', async () => {
        await fresh();
        const paired = device();
        await store.saveDevice(paired);
        await store.touchDevice(paired.deviceId, 12_345);
        expect(await store.getDevice(paired.deviceId)).toEqual({ ...paired, lastSeenAt: 12_345 });
        expect(await store.findDeviceByTokenHash(paired.tokenHash)).toEqual({ ...paired, lastSeenAt: 12_345 });
        await store.touchDevice('dev-unknown', 12_345);
        expect(await store.getDevice('dev-unknown')).toBeNull();
        expect(await store.listDevices()).toHaveLength(1);
      });

      it('deletes a device with its token hash', async () => {
        await fresh();
        const kept = device({ createdAt: 1 });
        const revoked = device({ createdAt: 2 });
        await store.saveDevice(kept);
        await store.saveDevice(revoked);
        expect(await store.deleteDevice(revoked.deviceId)).toEqual(revoked);
        expect(await store.getDevice(revoked.deviceId)).toBeNull();
        expect(await store.findDeviceByTokenHash(revoked.tokenHash)).toBeNull();
        expect(await store.listDevices()).toEqual([kept]);
        expect(await store.deleteDevice(revoked.deviceId)).toBeNull();
        expect(await store.findDeviceByTokenHash(kept.tokenHash)).toEqual(kept);
      });

      it('refuses new devices beyond the device cap, but still updates existing ones', async () => {
        await fresh({ maxDevices: 2 });
        const first = device();
        await store.saveDevice(first);
        await store.saveDevice(device());
        await expect(store.saveDevice(device())).rejects.toThrow(/device limit/);
        expect(await store.listDevices()).toHaveLength(2);
        await store.saveDevice({ ...first, displayName: 'renamed' });
        expect((await store.getDevice(first.deviceId))?.displayName).toBe('renamed');

        // an approval that would exceed the cap fails as a whole: the request stays pending
        const { request } = pairingRequest(clock);
        await store.createPairingRequest(request, LIMITS);
        await expect(store.resolvePairingRequest(request.requestId, approval(clock, request))).rejects.toThrow(
          /device limit/,
        );
        expect((await store.getPairingRequest(request.requestId))?.status).toBe('pending');
        expect(await store.getDevice(request.deviceId)).toBeNull();
      });
    });

    describe('pairing requests', () => {
      it('creates, gets and lists pending requests in creation order', async () => {
        await fresh();
        const first = pairingRequest(clock, { createdAt: clock.now() - 10 }).request;
        const second = pairingRequest(clock, { clientIp: '2001:db8::7', claimPublicKey: 'pk-base64url' }).request;
        expect(await store.createPairingRequest(second, LIMITS)).toBe('created');
        expect(await store.createPairingRequest(first, LIMITS)).toBe('created');
        expect(await store.getPairingRequest(first.requestId)).toEqual(first);
        expect(await store.getPairingRequest(second.requestId)).toEqual(second);
        expect(await store.getPairingRequest(randomUUID())).toBeNull();
        expect(await store.listPendingPairingRequests()).toEqual([first, second]);
      });

      it('allows 3 pending requests per client IP and 100 in all', async () => {
        await fresh();
        const ip = '203.0.113.20';
        for (let i = 0; i < 3; i++) {
          expect(await store.createPairingRequest(pairingRequest(clock, { clientIp: ip }).request, LIMITS)).toBe('created');
        }
        const refused = pairingRequest(clock, { clientIp: ip }).request;
        expect(await store.createPairingRequest(refused, LIMITS)).toBe('client_ip_limit');
        expect(await store.getPairingRequest(refused.requestId)).toBeNull();

        // 97 more from other addresses fill the global limit
        const creations = [];
        for (let i = 0; i < 97; i++) {
          const clientIp = `2001:db8::${Math.floor(i / 3).toString(16)}`;
          creations.push(store.createPairingRequest(pairingRequest(clock, { clientIp }).request, LIMITS));
        }
        expect(new Set(await Promise.all(creations))).toEqual(new Set(['created']));
        expect(await store.listPendingPairingRequests()).toHaveLength(100);
        const overTotal = pairingRequest(clock, { clientIp: '203.0.113.99' }).request;
        expect(await store.createPairingRequest(overTotal, LIMITS)).toBe('total_limit');
        expect(await store.getPairingRequest(overTotal.requestId)).toBeNull();
        expect(await store.listPendingPairingRequests()).toHaveLength(100);
      });

      it('enforces the per-IP limit atomically under concurrent creation', async () => {
        await fresh();
        const peer = await opened.peer();
        const attempts = Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? peer : store).createPairingRequest(pairingRequest(clock, { clientIp: '203.0.113.30' }).request, LIMITS),
        );
        const outcomes = await Promise.all(attempts);
        expect(outcomes.filter((o) => o === 'created')).toHaveLength(3);
        expect(outcomes.filter((o) => o === 'client_ip_limit')).toHaveLength(7);
      });

      it('forgets expired pending requests: not found, not listed, not counted', async () => {
        await fresh();
        const ip = '203.0.113.40';
        const requests = [];
        for (let i = 0; i < 3; i++) {
          const { request, claimSecret } = pairingRequest(clock, { clientIp: ip });
          expect(await store.createPairingRequest(request, LIMITS)).toBe('created');
          requests.push({ request, claimSecret });
        }
        const [{ request, claimSecret }] = requests as [(typeof requests)[number]];
        clock.advance(TTL_MS - 1);
        expect(await store.getPairingRequest(request.requestId)).toEqual(request);
        clock.advance(1); // expiresAt <= now: expired
        expect(await store.getPairingRequest(request.requestId)).toBeNull();
        expect(await store.listPendingPairingRequests()).toEqual([]);
        expect(await store.resolvePairingRequest(request.requestId, rejection(clock))).toEqual({ outcome: 'not_found' });
        expect(await store.claimPairingRequest(request.requestId, sha256(claimSecret))).toEqual({ outcome: 'not_found' });
        for (let i = 0; i < 3; i++) {
          expect(await store.createPairingRequest(pairingRequest(clock, { clientIp: ip }).request, LIMITS)).toBe('created');
        }
        expect(await store.listPendingPairingRequests()).toHaveLength(3);
      });

      it('expires on the real clock too (short TTL, no clock injection)', async () => {
        await fresh({ clock: new TestClock(null) });
        const { request } = pairingRequest(clock, { expiresAt: Date.now() + 150 });
        expect(await store.createPairingRequest(request, { perClientIp: 1, total: 1 })).toBe('created');
        expect(await store.createPairingRequest(pairingRequest(clock).request, { perClientIp: 1, total: 1 })).toBe(
          'total_limit',
        );
        await sleep(250);
        expect(await store.getPairingRequest(request.requestId)).toBeNull();
        expect(await store.createPairingRequest(pairingRequest(clock).request, { perClientIp: 1, total: 1 })).toBe(
          'created',
        );
      });

      it('approves atomically with the device record and its token hash', async () => {
        await fresh();
        const { request } = pairingRequest(clock);
        await store.createPairingRequest(request, LIMITS);
        clock.advance(1_000);
        const resolution = approval(clock, request);
        const outcome = await store.resolvePairingRequest(request.requestId, resolution);
        const approved: PairingRequest = {
          ...request,
          status: 'approved',
          resolvedAt: resolution.resolvedAt,
          sealedToken: resolution.sealedToken,
        };
        expect(outcome).toEqual({ outcome: 'resolved', request: approved });
        expect(await store.getPairingRequest(request.requestId)).toEqual(approved);
        expect(await store.getDevice(request.deviceId)).toEqual(resolution.device);
        expect(await store.findDeviceByTokenHash(resolution.device.tokenHash)).toEqual(resolution.device);
        expect(await store.listPendingPairingRequests()).toEqual([]);

        expect(await store.resolvePairingRequest(request.requestId, rejection(clock))).toEqual({
          outcome: 'conflict',
          request: approved,
        });
        expect(await store.resolvePairingRequest(randomUUID(), rejection(clock))).toEqual({ outcome: 'not_found' });
      });

      it('rejects without creating a device and frees the client IP slot', async () => {
        await fresh();
        const ip = '203.0.113.50';
        const created = [];
        for (let i = 0; i < 3; i++) {
          const { request } = pairingRequest(clock, { clientIp: ip });
          await store.createPairingRequest(request, LIMITS);
          created.push(request);
        }
        const [first] = created as [PairingRequest];
        const outcome = await store.resolvePairingRequest(first.requestId, rejection(clock));
        expect(outcome).toEqual({
          outcome: 'resolved',
          request: { ...first, status: 'rejected', resolvedAt: clock.now(), sealedToken: null },
        });
        expect(await store.getDevice(first.deviceId)).toBeNull();
        expect(await store.listDevices()).toEqual([]);
        expect(await store.createPairingRequest(pairingRequest(clock, { clientIp: ip }).request, LIMITS)).toBe('created');
        expect(await store.createPairingRequest(pairingRequest(clock, { clientIp: ip }).request, LIMITS)).toBe(
          'client_ip_limit',
        );
      });

      it('keeps resolved requests for the retention period, then forgets them', async () => {
        await fresh();
        const { request, claimSecret } = pairingRequest(clock);
        await store.createPairingRequest(request, LIMITS);
        const resolution = approval(clock, request);
        await store.resolvePairingRequest(request.requestId, resolution);
        clock.advance(TTL_MS + 1); // past the pending expiry: resolution counts now
        expect((await store.getPairingRequest(request.requestId))?.status).toBe('approved');
        clock.advance(RETENTION_MS - TTL_MS - 1);
        expect(await store.getPairingRequest(request.requestId)).toBeNull();
        expect(await store.claimPairingRequest(request.requestId, sha256(claimSecret))).toEqual({ outcome: 'not_found' });
        expect(await store.resolvePairingRequest(request.requestId, rejection(clock))).toEqual({ outcome: 'not_found' });
        expect(await store.getDevice(request.deviceId)).toEqual(resolution.device); // the device stays
      });

      it('lets exactly one of 20 concurrent resolutions from two instances win', async () => {
        await fresh();
        const peer = await opened.peer();
        const { request } = pairingRequest(clock);
        await store.createPairingRequest(request, LIMITS);
        const resolutions = Array.from({ length: 20 }, (_, i) => (i % 2 ? approval(clock, request) : rejection(clock)));
        const outcomes = await Promise.all(
          resolutions.map((resolution, i) => (i % 2 ? peer : store).resolvePairingRequest(request.requestId, resolution)),
        );
        const winners = outcomes.filter((o) => o.outcome === 'resolved');
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((o) => o.outcome === 'conflict')).toHaveLength(19);
        const winner = winners[0]!;
        if (winner.outcome !== 'resolved') throw new Error('unreachable');
        for (const o of outcomes) if (o.outcome === 'conflict') expect(o.request).toEqual(winner.request);
        const winningResolution = resolutions[outcomes.indexOf(winner)]!;
        expect(await store.listDevices()).toEqual(winningResolution.device ? [winningResolution.device] : []);
      });

      it('hands the sealed token out once, to the holder of the claim secret', async () => {
        await fresh();
        const { request, claimSecret } = pairingRequest(clock);
        await store.createPairingRequest(request, LIMITS);
        // pending: the claim answers, but there is nothing to hand out yet and nothing is consumed
        const early = await store.claimPairingRequest(request.requestId, sha256(claimSecret));
        expect(early).toEqual({ outcome: 'claimed', request, sealedToken: null });

        const resolution = approval(clock, request);
        await store.resolvePairingRequest(request.requestId, resolution);
        expect(await store.claimPairingRequest(request.requestId, sha256('wrong secret'))).toEqual({ outcome: 'forbidden' });
        expect(await store.claimPairingRequest(request.requestId, 'short')).toEqual({ outcome: 'forbidden' });
        expect(await store.claimPairingRequest(randomUUID(), sha256(claimSecret))).toEqual({ outcome: 'not_found' });

        const approved = { ...request, status: 'approved', resolvedAt: resolution.resolvedAt, sealedToken: null };
        const peer = await opened.peer();
        const claims = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? peer : store).claimPairingRequest(request.requestId, sha256(claimSecret))),
        );
        const handedOut = claims.filter((c) => c.outcome === 'claimed' && c.sealedToken !== null);
        expect(handedOut).toEqual([{ outcome: 'claimed', request: approved, sealedToken: resolution.sealedToken }]);
        for (const c of claims) expect(c).toMatchObject({ outcome: 'claimed', request: approved });
        expect((await store.getPairingRequest(request.requestId))?.sealedToken).toBeNull();
      });

      it('claims a rejection (no token) as often as asked', async () => {
        await fresh();
        const { request, claimSecret } = pairingRequest(clock);
        await store.createPairingRequest(request, LIMITS);
        await store.resolvePairingRequest(request.requestId, rejection(clock));
        for (let i = 0; i < 2; i++) {
          const claim = await store.claimPairingRequest(request.requestId, sha256(claimSecret));
          expect(claim).toMatchObject({ outcome: 'claimed', sealedToken: null, request: { status: 'rejected' } });
        }
      });
    });

    it('stores no plaintext token: only its hash and the sealed token', async () => {
      await fresh();
      const direct = newToken();
      await store.saveDevice(device({ tokenHash: direct.tokenHash }));
      const paired = newToken();
      const { request } = pairingRequest(clock);
      await store.createPairingRequest(request, LIMITS);
      const resolution = approval(clock, request, paired.tokenHash);
      await store.resolvePairingRequest(request.requestId, resolution);
      const rotated = newToken();
      await store.replaceDeviceToken(request.deviceId, rotated.tokenHash);
      const state = await opened.dump();
      expect(state).toContain(direct.tokenHash);
      expect(state).toContain(rotated.tokenHash);
      expect(state).not.toContain(paired.tokenHash); // replaced
      for (const { token } of [direct, paired, rotated]) expect(state).not.toContain(token);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Engines

function embeddedHarness(): StoreHarness {
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-store-'));
  const opened: EmbeddedStore[] = [];
  return {
    async open({ clock, maxDevices }) {
      const dir = fs.mkdtempSync(path.join(baseDir, 'state-'));
      const store = new EmbeddedStore(dir, clock.now, maxDevices);
      await store.start();
      opened.push(store);
      return {
        store,
        peer: async () => store, // pairing requests live in the process: a second instance would not share them
        dump: async () => {
          await store.close();
          return fs.readFileSync(store.stateFile, 'utf8');
        },
      };
    },
    async closeAll() {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    },
    async teardown() {
      fs.rmSync(baseDir, { recursive: true, force: true });
    },
  };
}


let prefixCounter = 0;
function uniquePrefix(): string {
  return `contract-${process.pid}-${++prefixCounter}:`;
}

async function openRedisStore(settings: RedisSettings, clock: TestClock, maxDevices?: number): Promise<RedisStore> {
  const store = new RedisStore(settings, `contract-test-${prefixCounter}`, clock.now, maxDevices);
  await store.start();
  return store;
}

/** Every key under a prefix with its contents, read through the store's own client (all masters of a cluster). */
async function dumpRedis(store: RedisStore, prefix: string): Promise<string> {
  const client = store.client;
  const nodes = 'nodes' in client ? client.nodes('master') : [client];
  const lines: string[] = [];
  for (const node of nodes) {
    const keys = await node.keys(`${prefix}*`);
    for (const key of keys) {
      const type = await node.type(key);
      const value =
        type === 'hash'
          ? await node.hgetall(key)
          : type === 'set'
            ? await node.smembers(key)
            : type === 'zset'
              ? await node.zrange(key, 0, -1, 'WITHSCORES')
              : await node.get(key);
      lines.push(`${key} ${JSON.stringify(value)}`);
    }
  }
  return lines.join('\n');
}

function redisHarness(start: () => Promise<{ settings: RedisSettings; stop: () => Promise<void> }>): () => Promise<StoreHarness> {
  return async () => {
    const backend = await start();
    const opened: RedisStore[] = [];
    return {
      async open({ clock, maxDevices }) {
        const settings = { ...backend.settings, keyPrefix: uniquePrefix() };
        const store = await openRedisStore(settings, clock, maxDevices);
        opened.push(store);
        return {
          store,
          async peer() {
            const peer = await openRedisStore(settings, clock, maxDevices);
            opened.push(peer);
            return peer;
          },
          dump: () => dumpRedis(store, settings.keyPrefix),
        };
      },
      async closeAll() {
        await Promise.all(opened.splice(0).map((s) => s.close()));
      },
      teardown: backend.stop,
    };
  };
}

describeStoreContract('embedded', async () => embeddedHarness());

describeStoreContract(
  `redis standalone${process.env.REDIS_URL ? ' (REDIS_URL)' : ''}`,
  redisHarness(async () => {
    const server = await sharedRedis();
    return { settings: redisSettings({ url: server.url }), stop: () => server.stop() };
  }),
);

describeStoreContract(
  'redis sentinel',
  redisHarness(async () => {
    const setup = await startSentinel();
    return {
      settings: redisSettings({ sentinels: setup.sentinelsString.split(','), sentinelName: setup.name }),
      stop: () => setup.stop(),
    };
  }),
);

describeStoreContract(
  'redis cluster',
  redisHarness(async () => {
    const setup = await startCluster();
    return { settings: redisSettings({ clusterNodes: setup.nodesString.split(',') }), stop: () => setup.stop() };
  }),
);

// ---------------------------------------------------------------------------------------------
// Engine-specific behaviour

describe('EmbeddedStore persistence', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openclaw-embedded-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps devices across instances in a 0600 file without plaintext tokens', async () => {
    const first = new EmbeddedStore(dir);
    await first.start();
    const { token, tokenHash } = newToken();
    const kept = device({ tokenHash, createdAt: 1 });
    const revoked = device({ createdAt: 2 });
    await first.saveDevice(kept);
    await first.saveDevice(revoked);
    await first.deleteDevice(revoked.deviceId);
    await first.touchDevice(kept.deviceId, 99);
    await first.close();

    expect(fs.statSync(first.stateFile).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(first.stateFile, 'utf8');
    expect(text).toContain(tokenHash);
    expect(text).not.toContain(token);

    const second = new EmbeddedStore(dir);
    await second.start();
    expect(await second.listDevices()).toEqual([{ ...kept, lastSeenAt: 99 }]);
    expect(await second.findDeviceByTokenHash(tokenHash)).toEqual({ ...kept, lastSeenAt: 99 });
    await second.close();
  });

  it('tightens a loosened file mode on load and never wipes the file when closed unstarted', async () => {
    const store = new EmbeddedStore(dir);
    fs.chmodSync(store.stateFile, 0o644);
    await store.close(); // never started: must not replace the file with an empty list
    await store.start();
    expect(fs.statSync(store.stateFile).mode & 0o777).toBe(0o600);
    expect(await store.listDevices()).toHaveLength(1);
    await store.close();
    const again = new EmbeddedStore(dir);
    await again.start();
    expect(await again.listDevices()).toHaveLength(1);
    await again.close();
  });

  it('refuses an unreadable state file instead of starting empty', async () => {
    const brokenDir = fs.mkdtempSync(path.join(dir, 'broken-'));
    const store = new EmbeddedStore(brokenDir);
    fs.writeFileSync(store.stateFile, '{"version":2,"devices":[]}', { mode: 0o600 });
    await expect(store.start()).rejects.toThrow(/unsupported state file format/);
    await store.close();
    expect(fs.readFileSync(store.stateFile, 'utf8')).toBe('{"version":2,"devices":[]}');
  });
});

describe('RedisStore on a shared Redis', () => {
  let server: RedisServer;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    server = await sharedRedis();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function open(keyPrefix: string): Promise<RedisStore> {
    const store = new RedisStore(redisSettings({ url: server.url, keyPrefix }), 'prefix-test');
    stores.push(store);
    await store.start();
    return store;
  }

  it('keeps two key prefixes apart', async () => {
    const clock = new TestClock();
    const [alpha, beta] = [await open(`${uniquePrefix()}alpha:`), await open(`${uniquePrefix()}beta:`)];
    const paired = device();
    await alpha.saveDevice(paired);
    const { request } = pairingRequest(clock, { clientIp: '203.0.113.60' });
    await alpha.createPairingRequest(request, { perClientIp: 1, total: 1 });

    expect(await beta.getDevice(paired.deviceId)).toBeNull();
    expect(await beta.findDeviceByTokenHash(paired.tokenHash)).toBeNull();
    expect(await beta.listDevices()).toEqual([]);
    expect(await beta.getPairingRequest(request.requestId)).toBeNull();
    expect(await beta.listPendingPairingRequests()).toEqual([]);
    // alpha's pending request counts against alpha's limits only
    const other = pairingRequest(clock, { clientIp: '203.0.113.60' }).request;
    expect(await beta.createPairingRequest(other, { perClientIp: 1, total: 1 })).toBe('created');
    expect(await beta.resolvePairingRequest(request.requestId, rejection(clock))).toEqual({ outcome: 'not_found' });
    expect(await alpha.listDevices()).toEqual([paired]);
    expect(await alpha.listPendingPairingRequests()).toEqual([request]);
  });

  it('sets key TTLs so abandoned pairing state disappears on its own', async () => {
    const prefix = uniquePrefix();
    const store = await open(prefix);
    const clock = new TestClock();
    const { request } = pairingRequest(clock, { expiresAt: Date.now() + 60_000 });
    await store.createPairingRequest(request, LIMITS);
    const ttls = await Promise.all(
      [`${prefix}{state}:pairing:${request.requestId}`, `${prefix}{state}:pairing-pending-ip:${request.clientIp}`].map(
        (key) => store.client.pttl(key),
      ),
    );
    for (const ttl of ttls) expect(ttl).toBeGreaterThan(55_000);
    for (const ttl of ttls) expect(ttl).toBeLessThanOrEqual(60_000);
    await store.resolvePairingRequest(request.requestId, rejection(clock));
    const resolvedTtl = await store.client.pttl(`${prefix}{state}:pairing:${request.requestId}`);
    expect(resolvedTtl).toBeGreaterThan(RETENTION_MS - 5_000);
    expect(resolvedTtl).toBeLessThanOrEqual(RETENTION_MS);
  });
});

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(20);
}

const redisServerMissing = !process.env.PATH?.split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, 'redis-server')));

describe.skipIf(redisServerMissing)('RedisStore while Redis is down', () => {
  let server: RedisServer;
  let store: RedisStore;
  beforeAll(async () => {
    server = await startRedis();
    store = new RedisStore(redisSettings({ url: server.url, keyPrefix: uniquePrefix() }), 'outage-test');
    await store.start();
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('rejects every method quickly with StoreUnavailableError, then recovers after a restart', async () => {
    const clock = new TestClock();
    const paired = device();
    await store.saveDevice(paired);
    const { request, claimSecret } = pairingRequest(clock);
    await store.createPairingRequest(request, LIMITS);

    // a server that stops answering (paused here) fails the command after the command timeout, not never
    await redisCommand(server, ['CLIENT', 'PAUSE', '4000', 'ALL']);
    const pausedAt = performance.now();
    await expect(store.getDevice(paired.deviceId)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - pausedAt).toBeLessThan(3_000);

    await server.kill();
    await waitUntil(() => !store.isReady(), 1_000); // the socket's close event follows the process exit closely
    expect(store.isReady()).toBe(false);

    const calls: Array<[string, () => Promise<unknown>]> = [
      ['saveDevice', () => store.saveDevice(device())],
      ['getDevice', () => store.getDevice(paired.deviceId)],
      ['listDevices', () => store.listDevices()],
      ['findDeviceByTokenHash', () => store.findDeviceByTokenHash(paired.tokenHash)],
      ['replaceDeviceToken', () => store.replaceDeviceToken(paired.deviceId, newToken().tokenHash)],
      ['deleteDevice', () => store.deleteDevice(paired.deviceId)],
      ['touchDevice', () => store.touchDevice(paired.deviceId, 1)],
      ['createPairingRequest', () => store.createPairingRequest(pairingRequest(clock).request, LIMITS)],
      ['getPairingRequest', () => store.getPairingRequest(request.requestId)],
      ['listPendingPairingRequests', () => store.listPendingPairingRequests()],
      ['resolvePairingRequest', () => store.resolvePairingRequest(request.requestId, rejection(clock))],
      ['claimPairingRequest', () => store.claimPairingRequest(request.requestId, sha256(claimSecret))],
    ];
    for (const [name, call] of calls) {
      const started = performance.now();
      const error = await call().then(
        () => new Error(`${name} resolved while Redis was down`),
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).code).toBe('ERR_STORE_UNAVAILABLE');
      expect(performance.now() - started, name).toBeLessThan(500);
    }

    await server.restart(); // no persistence: the restarted server is empty and knows no scripts
    await waitUntil(() => store.isReady(), 10_000);
    expect(store.isReady()).toBe(true);

    const again = device();
    await store.saveDevice(again);
    expect(await store.findDeviceByTokenHash(again.tokenHash)).toEqual(again);
    const next = pairingRequest(clock);
    expect(await store.createPairingRequest(next.request, LIMITS)).toBe('created');
    expect(await store.resolvePairingRequest(next.request.requestId, rejection(clock))).toMatchObject({
      outcome: 'resolved',
    });
    expect(await store.claimPairingRequest(next.request.requestId, sha256(next.claimSecret))).toMatchObject({
      outcome: 'claimed',
    });
  });

  it('starts while Redis is down and becomes ready once it is back', async () => {
    await server.kill();
    const late = new RedisStore(redisSettings({ url: server.url, keyPrefix: uniquePrefix() }), 'late-start-test');
    try {
      await expect(late.start()).rejects.toThrow();
      expect(late.isReady()).toBe(false);
      await expect(late.listDevices()).rejects.toBeInstanceOf(StoreUnavailableError);
      await server.restart();
      await waitUntil(() => late.isReady(), 10_000);
      expect(late.isReady()).toBe(true);
      expect(await late.listDevices()).toEqual([]);
    } finally {
      await late.close();
    }
  });
});

describe.skipIf(redisServerMissing)('RedisStore across a Sentinel failover', () => {
  let setup: SentinelSetup;
  let store: RedisStore;
  beforeAll(async () => {
    setup = await startSentinel();
    const settings = redisSettings({ sentinels: setup.sentinelsString.split(','), sentinelName: setup.name });
    store = new RedisStore({ ...settings, keyPrefix: uniquePrefix() }, 'failover-test');
    await store.start();
  });
  afterAll(async () => {
    await store?.close();
    await setup?.stop();
  });

  it('follows the new primary without being recreated', { timeout: 30_000 }, async () => {
    const before = device();
    await store.saveDevice(before);
    // replication is asynchronous: make sure the replica has the write before the primary dies
    expect(await (store.client as Redis).wait(1, 2_000)).toBe(1);
    await setup.killPrimary();
    await setup.waitForFailover(20_000);

    const after = device();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const outcome = await store.saveDevice(after).then(
        () => 'saved',
        (error: unknown) => error,
      );
      if (outcome === 'saved') break;
      expect(outcome).toBeInstanceOf(StoreUnavailableError); // meanwhile: unavailable, never a wrong answer
      if (Date.now() > deadline) throw new Error('the store did not recover after the failover');
      await sleep(100);
    }
    expect(store.isReady()).toBe(true);
    expect(await store.listDevices()).toEqual(
      [before, after].sort((a, b) => a.createdAt - b.createdAt || (a.deviceId < b.deviceId ? -1 : 1)),
    );
  });
});
