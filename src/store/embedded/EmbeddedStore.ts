import { timingSafeEqual } from 'node:crypto';
import {
  MAX_DEVICES,
  RESOLVED_REQUEST_RETENTION_SECONDS,
  type ClaimOutcome,
  type CreatePairingOutcome,
  type DeviceRecord,
  type PairingLimits,
  type PairingRequest,
  type PairingResolution,
  type ResolveOutcome,
  type Store,
} from '../types.js';
import { DeviceFile } from './DeviceFile.js';

/**
 * The in-process engine for a single replica. Devices persist to the state dir; pairing requests live
 * in memory (they expire within minutes anyway). Node runs one callback at a time, so every method that
 * changes state does so synchronously before its first await: that is the atomicity Redis gets from Lua.
 */
export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly deviceIdByTokenHash = new Map<string, string>();
  private readonly requests = new Map<string, PairingRequest>();
  private readonly file: DeviceFile;
  private sweepTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    stateDir: string,
    private readonly now: () => number = Date.now,
    private readonly maxDevices: number = MAX_DEVICES,
  ) {
    this.file = new DeviceFile(stateDir);
  }

  get stateFile(): string {
    return this.file.path;
  }

  isReady(): boolean {
    return true;
  }

  async start(): Promise<void> {
    for (const device of await this.file.read()) this.index(device);
    this.started = true;
    this.sweepTimer = setInterval(() => this.sweepExpired(), 5_000);
    this.sweepTimer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    // Never started (or the file failed to load): writing now would replace the file with an empty list.
    if (!this.started) return;
    this.started = false;
    await this.persist();
  }

  async saveDevice(device: DeviceRecord): Promise<void> {
    this.assertRoomFor(device.deviceId);
    this.unindex(device.deviceId);
    this.index(device);
    await this.persist();
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | null> {
    return this.devices.get(deviceId) ?? null;
  }

  async listDevices(): Promise<DeviceRecord[]> {
    return [...this.devices.values()].sort(byCreatedAt((d) => d.deviceId));
  }

  async findDeviceByTokenHash(tokenHash: string): Promise<DeviceRecord | null> {
    const deviceId = this.deviceIdByTokenHash.get(tokenHash);
    return deviceId === undefined ? null : (this.devices.get(deviceId) ?? null);
  }

  async replaceDeviceToken(deviceId: string, tokenHash: string): Promise<{ previousTokenHash: string } | null> {
    const device = this.devices.get(deviceId);
    if (!device) return null;
    this.unindex(deviceId);
    this.index({ ...device, tokenHash });
    await this.persist();
    return { previousTokenHash: device.tokenHash };
  }

  async deleteDevice(deviceId: string): Promise<DeviceRecord | null> {
    const device = this.devices.get(deviceId);
    if (!device) return null;
    this.unindex(deviceId);
    await this.persist();
    return device;
  }

  async touchDevice(deviceId: string, lastSeenAt: number): Promise<void> {
    const device = this.devices.get(deviceId);
    if (device) this.devices.set(deviceId, { ...device, lastSeenAt });
    // lastSeenAt is advisory: persisted with the next structural write or at close.
  }

  async createPairingRequest(request: PairingRequest, limits: PairingLimits): Promise<CreatePairingOutcome> {
    this.sweepExpired();
    const pending = [...this.requests.values()].filter((r) => r.status === 'pending');
    if (pending.length >= limits.total) return 'total_limit';
    if (pending.filter((r) => r.clientIp === request.clientIp).length >= limits.perClientIp) return 'client_ip_limit';
    this.requests.set(request.requestId, request);
    return 'created';
  }

  async getPairingRequest(requestId: string): Promise<PairingRequest | null> {
    const request = this.requests.get(requestId);
    if (!request || this.isExpired(request)) return null;
    return request;
  }

  async listPendingPairingRequests(): Promise<PairingRequest[]> {
    this.sweepExpired();
    return [...this.requests.values()]
      .filter((r) => r.status === 'pending')
      .sort(byCreatedAt((r) => r.requestId));
  }

  async resolvePairingRequest(requestId: string, resolution: PairingResolution): Promise<ResolveOutcome> {
    const request = this.requests.get(requestId);
    if (!request || this.isExpired(request)) return { outcome: 'not_found' };
    if (request.status !== 'pending') return { outcome: 'conflict', request };
    if (resolution.device) this.assertRoomFor(resolution.device.deviceId);
    const resolved: PairingRequest = {
      ...request,
      status: resolution.status,
      resolvedAt: resolution.resolvedAt,
      sealedToken: resolution.sealedToken,
    };
    this.requests.set(requestId, resolved);
    if (resolution.device) {
      this.unindex(resolution.device.deviceId);
      this.index(resolution.device);
      await this.persist();
    }
    return { outcome: 'resolved', request: resolved };
  }

  async claimPairingRequest(requestId: string, claimSecretHash: string): Promise<ClaimOutcome> {
    const request = this.requests.get(requestId);
    if (!request || this.isExpired(request)) return { outcome: 'not_found' };
    if (!sameDigest(request.claimSecretHash, claimSecretHash)) return { outcome: 'forbidden' };
    const sealedToken = request.sealedToken;
    if (sealedToken !== null) this.requests.set(requestId, { ...request, sealedToken: null });
    return { outcome: 'claimed', request: { ...request, sealedToken: null }, sealedToken };
  }

  private isExpired(request: PairingRequest): boolean {
    const now = this.now();
    if (request.status === 'pending') return request.expiresAt <= now;
    return (request.resolvedAt ?? 0) + RESOLVED_REQUEST_RETENTION_SECONDS * 1000 <= now;
  }

  private sweepExpired(): void {
    for (const [id, request] of this.requests) if (this.isExpired(request)) this.requests.delete(id);
  }

  private assertRoomFor(deviceId: string): void {
    if (!this.devices.has(deviceId) && this.devices.size >= this.maxDevices) {
      throw new Error(`device limit reached (${this.maxDevices})`);
    }
  }

  private index(device: DeviceRecord): void {
    this.devices.set(device.deviceId, device);
    this.deviceIdByTokenHash.set(device.tokenHash, device.deviceId);
  }

  private unindex(deviceId: string): void {
    const existing = this.devices.get(deviceId);
    if (!existing) return;
    this.devices.delete(deviceId);
    if (this.deviceIdByTokenHash.get(existing.tokenHash) === deviceId) this.deviceIdByTokenHash.delete(existing.tokenHash);
  }

  private persist(): Promise<void> {
    return this.file.write([...this.devices.values()]);
  }
}

function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function byCreatedAt<T extends { createdAt: number }>(tieBreak: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => a.createdAt - b.createdAt || (tieBreak(a) < tieBreak(b) ? -1 : tieBreak(a) > tieBreak(b) ? 1 : 0);
}
