// The device-token cache while the store or the bus is down: what it may still serve, and for how long.
import { describe, expect, it } from 'vitest';
import { DEVICE_CACHE_TTL_MS, DeviceTokenCache } from '../../src/auth/DeviceTokenCache.js';
import { LocalBus } from '../../src/cluster/LocalBus.js';
import { StoreUnavailableError, type DeviceRecord } from '../../src/store/types.js';

function record(deviceId: string, tokenHash: string): DeviceRecord {
  return { deviceId, displayName: deviceId, platform: 'test', tokenHash, createdAt: 0, lastSeenAt: null };
}

class FlakyStore {
  down = false;
  lookups = 0;
  readonly devices = new Map<string, DeviceRecord>();
  async findDeviceByTokenHash(hash: string): Promise<DeviceRecord | null> {
    this.lookups++;
    if (this.down) throw new StoreUnavailableError();
    return this.devices.get(hash) ?? null;
  }
}

/** A bus whose connection the test switches off and on. */
class SwitchableBus extends LocalBus {
  connected = true;
  override isReady(): boolean {
    return this.connected;
  }
}

function setup() {
  let now = 1_000_000;
  const store = new FlakyStore();
  store.devices.set('h1', record('d1', 'h1'));
  const bus = new SwitchableBus('r1');
  const cache = new DeviceTokenCache(store, { now: () => now });
  cache.attach(bus);
  return { store, bus, cache, advance: (ms: number) => (now += ms) };
}

describe('DeviceTokenCache during outages', () => {
  it('serves a store-confirmed device while the store is down, for at most DEVICE_CACHE_TTL_MS (5 minutes) after confirmation', async () => {
    const { store, bus, cache, advance } = setup();
    expect(DEVICE_CACHE_TTL_MS).toBe(300_000);
    expect((await cache.findByTokenHash('h1'))?.deviceId).toBe('d1');
    store.down = true;
    bus.connected = false; // a Redis outage takes the bus down too
    advance(DEVICE_CACHE_TTL_MS - 1);
    expect((await cache.findByTokenHash('h1'))?.deviceId).toBe('d1');
    advance(1);
    await expect(cache.findByTokenHash('h1')).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('never answers for a token it has not confirmed while the store is down (the caller answers 503)', async () => {
    const { store, cache } = setup();
    store.down = true;
    await expect(cache.findByTokenHash('h1')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(cache.findByTokenHash('unknown')).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('asks the store on every lookup while the bus is down, since invalidations may be missed', async () => {
    const { store, bus, cache } = setup();
    await cache.findByTokenHash('h1');
    await cache.findByTokenHash('miss');
    bus.connected = false;
    store.devices.delete('h1'); // revoked elsewhere; the invalidation never arrives
    store.devices.set('miss', record('d2', 'miss')); // paired elsewhere after our miss
    expect(await cache.findByTokenHash('h1')).toBeNull();
    expect((await cache.findByTokenHash('miss'))?.deviceId).toBe('d2');
    // What the store denied is not served stale if the store then fails too.
    store.down = true;
    await expect(cache.findByTokenHash('h1')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(store.lookups).toBe(5);
  });

  it('goes back to serving from memory once the bus is connected again', async () => {
    const { store, bus, cache } = setup();
    bus.connected = false;
    await cache.findByTokenHash('h1');
    await cache.findByTokenHash('h1');
    bus.connected = true;
    await cache.findByTokenHash('h1');
    expect(store.lookups).toBe(2);
  });
});
