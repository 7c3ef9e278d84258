import type { ClusterBus } from '../cluster/types.js';
import type { DeviceRecord, Store } from '../store/types.js';

export const DEVICE_INVALIDATE_TOPIC = 'device.invalidate' as const;

export interface DeviceInvalidation {
  readonly tokenHash?: string;
  readonly deviceId?: string;
}

export interface DeviceTokenCacheOptions {
  /** Positive entries (bounded LRU). */
  readonly maxEntries?: number;
  /**
   * A safety net for a lost invalidation (the bus is the primary mechanism), and the bound on serving a
   * device from the cache while the store cannot be reached: an entry lives this long after the store
   * last confirmed it, hits do not extend it.
   */
  readonly positiveTtlMs?: number;
  readonly maxNegativeEntries?: number;
  /** Short: a token is random, so a miss repeats only when someone is guessing. */
  readonly negativeTtlMs?: number;
  readonly now?: () => number;
}

interface Entry<T> {
  readonly value: T;
  readonly expiresAt: number;
}

interface DeviceEntry extends Entry<DeviceRecord> {
  /** When a hit last moved it to the most-recent end. */
  touchedAt: number;
}

/** A hit moves its entry to the most-recent end at most this often: an LRU to the second, not a Map delete+set per request. */
const TOUCH_INTERVAL_MS = 1_000;

/** Default positive TTL: how long a store-confirmed device may be served from the cache (see README "Failure modes"). */
export const DEVICE_CACHE_TTL_MS = 300_000;

/**
 * Device lookups by token hash, cached in-process so the hot path makes no store round trip. Rotation and
 * revocation anywhere in the cluster reach every replica as `device.invalidate`; a bus resync (messages
 * may have been missed) flushes everything. Lookups that race an invalidation are not cached.
 *
 * The cache is trusted only while the bus is connected: while it is not, invalidations may be going
 * missing, so every lookup goes to the store, and a cached device is served (until its TTL) only when
 * the store cannot answer either. A token unknown to the cache is never accepted without the store.
 */
export class DeviceTokenCache {
  private readonly positive = new Map<string, DeviceEntry>();
  private readonly negative = new Map<string, Entry<null>>();
  private readonly inFlight = new Map<string, Promise<DeviceRecord | null>>();
  private generation = 0;
  private invalidationsFlowing: () => boolean = () => true;
  private readonly maxEntries: number;
  private readonly positiveTtlMs: number;
  private readonly maxNegativeEntries: number;
  private readonly negativeTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: Pick<Store, 'findDeviceByTokenHash'>,
    options: DeviceTokenCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.positiveTtlMs = options.positiveTtlMs ?? DEVICE_CACHE_TTL_MS;
    this.maxNegativeEntries = options.maxNegativeEntries ?? 10_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 2_000;
    this.now = options.now ?? Date.now;
  }

  /** Wires invalidation from the cluster bus; returns the unsubscribe function. */
  attach(bus: ClusterBus): () => void {
    const offInvalidate = bus.subscribe(DEVICE_INVALIDATE_TOPIC, ({ payload }) =>
      this.invalidate((payload ?? {}) as DeviceInvalidation),
    );
    const offResync = bus.onResync(() => this.flush());
    this.invalidationsFlowing = () => bus.isReady();
    return () => {
      offInvalidate();
      offResync();
      this.invalidationsFlowing = () => true;
    };
  }

  /**
   * What the cache can answer on its own, synchronously: the device (a trusted, live hit), null (a trusted,
   * live miss), or undefined when only findByTokenHash can (not cached, expired, or invalidations not flowing).
   */
  peek(tokenHash: string): DeviceRecord | null | undefined {
    if (!this.invalidationsFlowing()) return undefined;
    const now = this.now();
    const hit = this.positive.get(tokenHash);
    if (hit) {
      if (hit.expiresAt <= now) return undefined;
      this.touch(tokenHash, hit, now);
      return hit.value;
    }
    const miss = this.negative.get(tokenHash);
    return miss && miss.expiresAt > now ? null : undefined;
  }

  async findByTokenHash(tokenHash: string): Promise<DeviceRecord | null> {
    const now = this.now();
    let hit = this.positive.get(tokenHash);
    if (hit && hit.expiresAt <= now) {
      this.positive.delete(tokenHash);
      hit = undefined;
    }
    const trusted = this.invalidationsFlowing();
    if (hit && trusted) {
      this.touch(tokenHash, hit, now);
      return hit.value;
    }
    const miss = this.negative.get(tokenHash);
    if (miss && miss.expiresAt > now && trusted) return null;
    if (miss && miss.expiresAt <= now) this.negative.delete(tokenHash);
    try {
      return await this.lookup(tokenHash);
    } catch (error) {
      // Stale if error: the store last confirmed this device less than positiveTtlMs ago.
      if (hit && this.positive.get(tokenHash) === hit) return hit.value;
      throw error;
    }
  }

  /** Drops what a rotation or revocation made stale: by token hash, by device id, or both. */
  invalidate(invalidation: DeviceInvalidation): void {
    this.generation++;
    const { tokenHash, deviceId } = invalidation;
    if (typeof tokenHash === 'string') {
      this.positive.delete(tokenHash);
      this.negative.delete(tokenHash);
    }
    if (typeof deviceId === 'string') {
      for (const [hash, entry] of this.positive) if (entry.value.deviceId === deviceId) this.positive.delete(hash);
      // A new token for this device may have been looked up (and missed) just before it was issued.
      this.negative.clear();
    }
  }

  flush(): void {
    this.generation++;
    this.positive.clear();
    this.negative.clear();
  }

  get size(): { positive: number; negative: number } {
    return { positive: this.positive.size, negative: this.negative.size };
  }

  private async lookup(tokenHash: string): Promise<DeviceRecord | null> {
    const pending = this.inFlight.get(tokenHash);
    if (pending) return pending;
    const loading = this.load(tokenHash);
    this.inFlight.set(tokenHash, loading);
    try {
      return await loading;
    } finally {
      this.inFlight.delete(tokenHash);
    }
  }

  private touch(tokenHash: string, hit: DeviceEntry, now: number): void {
    if (now - hit.touchedAt < TOUCH_INTERVAL_MS) return;
    hit.touchedAt = now;
    this.positive.delete(tokenHash);
    this.positive.set(tokenHash, hit); // most recently used goes last
  }

  private async load(tokenHash: string): Promise<DeviceRecord | null> {
    const generation = this.generation;
    const device = await this.store.findDeviceByTokenHash(tokenHash);
    if (!device) this.positive.delete(tokenHash); // the store no longer knows it: never serve it stale
    if (generation !== this.generation) return device;
    const now = this.now();
    const expiresAt = now + (device ? this.positiveTtlMs : this.negativeTtlMs);
    if (device) remember(this.positive, tokenHash, { value: device, expiresAt, touchedAt: now }, this.maxEntries);
    else remember(this.negative, tokenHash, { value: null, expiresAt }, this.maxNegativeEntries);
    return device;
  }
}

function remember<E>(map: Map<string, E>, key: string, entry: E, max: number): void {
  map.delete(key);
  while (map.size >= max) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
  map.set(key, entry);
}
