import { describe, expect, it } from 'vitest';
import { DeviceTokenCache } from '../../../src/auth/DeviceTokenCache.js';
import { LocalBus } from '../../../src/cluster/LocalBus.js';
import type { DeviceRecord } from '../../../src/store/types.js';

function record(deviceId: string, tokenHash: string): DeviceRecord {
  return { deviceId, displayName: deviceId, platform: 'test', tokenHash, createdAt: 0, lastSeenAt: null };
}

class CountingStore {
  lookups = 0;
  readonly devices = new Map<string, DeviceRecord>();
  async findDeviceByTokenHash(hash: string): Promise<DeviceRecord | null> {
    this.lookups++;
    return this.devices.get(hash) ?? null;
  }
}

describe('DeviceTokenCache', () => {
  it('caches hits and misses', async () => {
    const store = new CountingStore();
    store.devices.set('h1', record('d1', 'h1'));
    const cache = new DeviceTokenCache(store);
    expect((await cache.findByTokenHash('h1'))?.deviceId).toBe('d1');
    expect((await cache.findByTokenHash('h1'))?.deviceId).toBe('d1');
    expect(await cache.findByTokenHash('h2')).toBeNull();
    expect(await cache.findByTokenHash('h2')).toBeNull();
    expect(store.lookups).toBe(2);
  });

  it('peek answers from live entries only, and only while invalidations flow', async () => {
    let now = 1_000;
    const store = new CountingStore();
    store.devices.set('h1', record('d1', 'h1'));
    const local = new LocalBus('replica-a');
    let busUp = true;
    const bus = Object.assign(Object.create(local) as LocalBus, { isReady: () => busUp });
    const cache = new DeviceTokenCache(store, { negativeTtlMs: 100, positiveTtlMs: 1_000, now: () => now });
    cache.attach(bus);
    expect(cache.peek('h1')).toBeUndefined(); // never looked up: only the store can answer
    await cache.findByTokenHash('h1');
    await cache.findByTokenHash('h2');
    expect(cache.peek('h1')?.deviceId).toBe('d1');
    expect(cache.peek('h2')).toBeNull();
    now += 200;
    expect(cache.peek('h2')).toBeUndefined(); // the miss expired
    expect(cache.peek('h1')?.deviceId).toBe('d1');
    cache.invalidate({ tokenHash: 'h1' });
    expect(cache.peek('h1')).toBeUndefined();
    await cache.findByTokenHash('h1');
    now += 1_000;
    expect(cache.peek('h1')).toBeUndefined(); // past its TTL
    await cache.findByTokenHash('h1');
    expect(cache.peek('h1')?.deviceId).toBe('d1');
    busUp = false;
    expect(cache.peek('h1')).toBeUndefined(); // bus down: invalidations may be missed, the cache is not trusted
    expect(store.lookups).toBe(4);
  });

  it('expires negative entries quickly and positive ones eventually', async () => {
    let now = 1_000;
    const store = new CountingStore();
    store.devices.set('h1', record('d1', 'h1'));
    const cache = new DeviceTokenCache(store, { negativeTtlMs: 100, positiveTtlMs: 1_000, now: () => now });
    await cache.findByTokenHash('h1');
    await cache.findByTokenHash('miss');
    now += 101;
    await cache.findByTokenHash('miss');
    await cache.findByTokenHash('h1');
    expect(store.lookups).toBe(3);
    now += 1_000;
    await cache.findByTokenHash('h1');
    expect(store.lookups).toBe(4);
  });

  it('stays bounded (least recently used goes first)', async () => {
    const store = new CountingStore();
    for (let i = 0; i < 5; i++) store.devices.set(`h${i}`, record(`d${i}`, `h${i}`));
    const cache = new DeviceTokenCache(store, { maxEntries: 3, maxNegativeEntries: 2 });
    for (let i = 0; i < 5; i++) await cache.findByTokenHash(`h${i}`);
    for (let i = 0; i < 5; i++) await cache.findByTokenHash(`miss${i}`);
    expect(cache.size).toEqual({ positive: 3, negative: 2 });
  });

  it('keeps the devices in use when full: a hit renews its entry, at most once a second', async () => {
    let now = 0;
    const store = new CountingStore();
    for (let i = 0; i < 4; i++) store.devices.set(`h${i}`, record(`d${i}`, `h${i}`));
    const cache = new DeviceTokenCache(store, { maxEntries: 3, now: () => now });
    for (let i = 0; i < 3; i++) await cache.findByTokenHash(`h${i}`);
    expect(cache.peek('h0')?.deviceId).toBe('d0'); // same second as its load: not moved, h0 is still the oldest
    now += 1_000;
    expect(cache.peek('h1')?.deviceId).toBe('d1'); // renewed: h0, h2, h1
    await cache.findByTokenHash('h3'); // evicts h0
    const before = store.lookups;
    expect(cache.peek('h0')).toBeUndefined();
    expect(cache.peek('h1')?.deviceId).toBe('d1');
    expect(cache.peek('h2')?.deviceId).toBe('d2');
    expect(store.lookups).toBe(before);
  });

  it('forgets a device on device.invalidate from the bus (by token hash or by device id) and on resync', async () => {
    const store = new CountingStore();
    store.devices.set('h1', record('d1', 'h1'));
    store.devices.set('h2', record('d2', 'h2'));
    const bus = new LocalBus('r1');
    const cache = new DeviceTokenCache(store);
    cache.attach(bus);
    await cache.findByTokenHash('h1');
    await cache.findByTokenHash('h2');
    store.devices.delete('h1'); // rotated
    await bus.publish('device.invalidate', { tokenHash: 'h1' });
    expect(await cache.findByTokenHash('h1')).toBeNull();
    store.devices.delete('h2'); // revoked
    await bus.publish('device.invalidate', { deviceId: 'd2' });
    expect(await cache.findByTokenHash('h2')).toBeNull();
    expect(store.lookups).toBe(4);
  });

  it('does not cache a lookup that raced an invalidation', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = {
      lookups: 0,
      async findDeviceByTokenHash(): Promise<DeviceRecord | null> {
        this.lookups++;
        await gate;
        return record('d1', 'h1');
      },
    };
    const cache = new DeviceTokenCache(store);
    const pending = cache.findByTokenHash('h1');
    cache.invalidate({ deviceId: 'd1' });
    release();
    await pending;
    await cache.findByTokenHash('h1');
    expect(store.lookups).toBe(2);
  });

  it('shares one store call among concurrent lookups of the same hash', async () => {
    const store = new CountingStore();
    store.devices.set('h1', record('d1', 'h1'));
    const cache = new DeviceTokenCache(store);
    await Promise.all([cache.findByTokenHash('h1'), cache.findByTokenHash('h1'), cache.findByTokenHash('h1')]);
    expect(store.lookups).toBe(1);
  });
});
