import { ReplyError } from 'ioredis';
import type { GatewayConfig } from '../../config/types.js';
import {
  MAX_DEVICES,
  RESOLVED_REQUEST_RETENTION_SECONDS,
  StoreUnavailableError,
  type ClaimOutcome,
  type CreatePairingOutcome,
  type DeviceRecord,
  type PairingLimits,
  type PairingRequest,
  type PairingResolution,
  type ResolveOutcome,
  type Store,
} from '../types.js';
import { createRedisClient, isClientReady, stateKey, type RedisClient } from './connection.js';
import {
  decodeDevice,
  decodePairingRequest,
  encodeDevice,
  encodePairingRequest,
  hashFromFlat,
  type HashRecord,
} from './hashCodec.js';
import {
  DEVICE_LIMIT_REPLY,
  claimPairingRequestScript,
  createPairingRequestScript,
  deleteDeviceScript,
  replaceDeviceTokenScript,
  resolvePairingRequestScript,
  saveDeviceScript,
  touchDeviceScript,
} from './storeScripts.js';

const RETENTION_MS = RESOLVED_REQUEST_RETENTION_SECONDS * 1000;
/** HGETALLs per pipeline when listing devices, so one reply never grows with the device count. */
const LIST_BATCH = 500;
/** Replies that mean "Redis cannot serve right now" rather than "the command is wrong". */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|LOADING|READONLY|MASTERDOWN|TRYAGAIN|NOREPLICAS|BUSY|MOVED|ASK)\b/;
/** Sentinel mode: how long a device/pairing write waits for one replica before it is refused as unavailable. */
export const REPLICA_ACK_TIMEOUT_MS = 1_000;

/**
 * The Redis engine (standalone, Sentinel or Cluster). Every key carries the `{state}` hash tag after the
 * key prefix, so the multi-key Lua scripts that make pairing atomic also run on Redis Cluster.
 * Expiry is decided by the clock passed in, like the embedded engine; key TTLs only collect garbage.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly client: RedisClient;
  private readonly keys: StoreKeys;
  /** Replicas that must confirm a device or pairing write before it is answered (WAIT); 1 with Sentinel. */
  private readonly replicaAcks: number;

  constructor(
    settings: GatewayConfig['redis'],
    connectionName: string,
    private readonly now: () => number = Date.now,
    private readonly maxDevices: number = MAX_DEVICES,
  ) {
    this.client = createRedisClient(settings, connectionName);
    // Failures surface through the commands (StoreUnavailableError) and isReady(); ioredis reconnects.
    this.client.on('error', () => {});
    this.keys = new StoreKeys(settings.keyPrefix);
    this.replicaAcks = settings.clusterNodes.length === 0 && settings.sentinels.length > 0 ? 1 : 0;
  }

  isReady(): boolean {
    return isClientReady(this.client);
  }

  async start(): Promise<void> {
    if (this.client.status === 'wait') await this.client.connect();
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => {});
    this.client.disconnect();
  }

  saveDevice(device: DeviceRecord): Promise<void> {
    return this.guard('saveDevice', async () => {
      await saveDeviceScript.run(this.client, this.keys.forDevice(device.deviceId), [
        this.maxDevices,
        device.deviceId,
        device.tokenHash,
        ...encodeDevice(device),
      ]);
      await this.replicated('saveDevice');
    });
  }

  getDevice(deviceId: string): Promise<DeviceRecord | null> {
    return this.guard('getDevice', async () => decodeDevice(await this.client.hgetall(this.keys.device(deviceId))));
  }

  listDevices(): Promise<DeviceRecord[]> {
    return this.guard('listDevices', async () => {
      const deviceIds = await this.client.smembers(this.keys.deviceIds);
      const devices: DeviceRecord[] = [];
      for (let start = 0; start < deviceIds.length; start += LIST_BATCH) {
        const pipeline = this.client.pipeline();
        for (const deviceId of deviceIds.slice(start, start + LIST_BATCH)) pipeline.hgetall(this.keys.device(deviceId));
        for (const [error, hash] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          const device = decodeDevice(hash as HashRecord);
          if (device) devices.push(device);
        }
      }
      return devices.sort(byCreatedAt((d) => d.deviceId));
    });
  }

  findDeviceByTokenHash(tokenHash: string): Promise<DeviceRecord | null> {
    return this.guard('findDeviceByTokenHash', async () => {
      const deviceId = await this.client.hget(this.keys.deviceByTokenHash, tokenHash);
      if (deviceId === null) return null;
      const device = decodeDevice(await this.client.hgetall(this.keys.device(deviceId)));
      // The index and the record are read separately: a rotation in between must not match the old token.
      return device?.tokenHash === tokenHash ? device : null;
    });
  }

  replaceDeviceToken(deviceId: string, tokenHash: string): Promise<{ previousTokenHash: string } | null> {
    return this.guard('replaceDeviceToken', async () => {
      const previousTokenHash = await replaceDeviceTokenScript.run(
        this.client,
        [this.keys.device(deviceId), this.keys.deviceByTokenHash],
        [deviceId, tokenHash],
      );
      await this.replicated('replaceDeviceToken');
      return typeof previousTokenHash === 'string' ? { previousTokenHash } : null;
    });
  }

  deleteDevice(deviceId: string): Promise<DeviceRecord | null> {
    return this.guard('deleteDevice', async () => {
      const flat = await deleteDeviceScript.run(this.client, this.keys.forDevice(deviceId), [deviceId]);
      await this.replicated('deleteDevice');
      return decodeDevice(hashFromFlat(flat));
    });
  }

  touchDevice(deviceId: string, lastSeenAt: number): Promise<void> {
    return this.guard('touchDevice', async () => {
      await touchDeviceScript.run(this.client, [this.keys.device(deviceId)], [lastSeenAt]);
    });
  }

  createPairingRequest(request: PairingRequest, limits: PairingLimits): Promise<CreatePairingOutcome> {
    return this.guard('createPairingRequest', async () => {
      const outcome = await createPairingRequestScript.run(
        this.client,
        [this.keys.pairing(request.requestId), this.keys.pendingPairings, this.keys.pendingPairingsOf(request.clientIp)],
        [
          this.now(),
          limits.perClientIp,
          limits.total,
          request.requestId,
          request.expiresAt,
          ...encodePairingRequest(request),
        ],
      );
      if (outcome !== 'created' && outcome !== 'client_ip_limit' && outcome !== 'total_limit') {
        throw new UnexpectedReplyError('createPairingRequest', outcome);
      }
      return outcome;
    });
  }

  getPairingRequest(requestId: string): Promise<PairingRequest | null> {
    return this.guard('getPairingRequest', async () => {
      const request = decodePairingRequest(await this.client.hgetall(this.keys.pairing(requestId)));
      return request && !this.isExpired(request) ? request : null;
    });
  }

  listPendingPairingRequests(): Promise<PairingRequest[]> {
    return this.guard('listPendingPairingRequests', async () => {
      const requestIds = await this.client.zrangebyscore(this.keys.pendingPairings, `(${this.now()}`, '+inf');
      if (requestIds.length === 0) return [];
      const pipeline = this.client.pipeline();
      for (const requestId of requestIds) pipeline.hgetall(this.keys.pairing(requestId));
      const requests: PairingRequest[] = [];
      for (const [error, hash] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        const request = decodePairingRequest(hash as HashRecord);
        if (request && request.status === 'pending' && !this.isExpired(request)) requests.push(request);
      }
      return requests.sort(byCreatedAt((r) => r.requestId));
    });
  }

  resolvePairingRequest(requestId: string, resolution: PairingResolution): Promise<ResolveOutcome> {
    return this.guard('resolvePairingRequest', async () => {
      const { device } = resolution;
      const reply = await resolvePairingRequestScript.run(
        this.client,
        [
          this.keys.pairing(requestId),
          this.keys.pendingPairings,
          ...this.keys.forDevice(device?.deviceId ?? ''),
        ],
        [
          this.now(),
          RETENTION_MS,
          this.maxDevices,
          requestId,
          resolution.status,
          resolution.resolvedAt,
          resolution.sealedToken === null ? '0' : '1',
          resolution.sealedToken ?? '',
          device ? '1' : '0',
          device?.deviceId ?? '',
          device?.tokenHash ?? '',
          ...(device ? encodeDevice(device) : []),
        ],
      );
      const [outcome, flat] = Array.isArray(reply) ? reply : [];
      if (outcome === 'resolved') await this.replicated('resolvePairingRequest');
      if (outcome === 'not_found') return { outcome };
      const request = decodePairingRequest(hashFromFlat(flat));
      if ((outcome === 'resolved' || outcome === 'conflict') && request) return { outcome, request };
      throw new UnexpectedReplyError('resolvePairingRequest', outcome);
    });
  }

  claimPairingRequest(requestId: string, claimSecretHash: string): Promise<ClaimOutcome> {
    return this.guard('claimPairingRequest', async () => {
      const reply = await claimPairingRequestScript.run(
        this.client,
        [this.keys.pairing(requestId)],
        [this.now(), RETENTION_MS, claimSecretHash],
      );
      const [outcome, flat, hasSealedToken, sealedToken] = Array.isArray(reply) ? reply : [];
      if (outcome === 'not_found' || outcome === 'forbidden') return { outcome };
      const request = decodePairingRequest(hashFromFlat(flat));
      if (outcome !== 'claimed' || !request) throw new UnexpectedReplyError('claimPairingRequest', outcome);
      return {
        outcome,
        request: { ...request, sealedToken: null },
        sealedToken: hasSealedToken === '1' ? String(sealedToken) : null,
      };
    });
  }

  /**
   * Redis replicates asynchronously: a write the Sentinel primary acknowledged but had not yet sent to its
   * replica is lost if that replica is promoted. Approvals, rotations and revocations are therefore answered
   * only once a connected replica confirmed them; without a confirmation the caller gets `unavailable`
   * (outcome unknown). A primary with no replica connected (e.g. right after a failover) has nothing a
   * failover could promote in its place, so its writes are answered at once.
   */
  private async replicated(operation: string): Promise<void> {
    if (this.replicaAcks === 0) return;
    const role = (await this.client.call('ROLE')) as unknown[];
    const connectedReplicas = Array.isArray(role[2]) ? role[2].length : 0;
    if (connectedReplicas === 0) return;
    const acknowledged = await this.client.wait(this.replicaAcks, REPLICA_ACK_TIMEOUT_MS);
    if (acknowledged < this.replicaAcks) throw new StoreUnavailableError(`redis write not confirmed by a replica (${operation})`);
  }

  private isExpired(request: PairingRequest): boolean {
    const now = this.now();
    if (request.status === 'pending') return request.expiresAt <= now;
    return (request.resolvedAt ?? 0) + RETENTION_MS <= now;
  }

  /** Fails fast while disconnected; connection-level failures become StoreUnavailableError. */
  private async guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (!isClientReady(this.client)) throw new StoreUnavailableError(`redis store not ready (${operation})`);
    try {
      return await run();
    } catch (error) {
      if (isReplyError(error) && error.message.startsWith(DEVICE_LIMIT_REPLY)) {
        throw new Error(`device limit reached (${this.maxDevices})`);
      }
      if (error instanceof UnexpectedReplyError) throw error;
      if (isReplyError(error) && !UNAVAILABLE_REPLY.test(error.message)) throw error;
      throw new StoreUnavailableError(`redis store unavailable (${operation})`, { cause: error });
    }
  }
}

/** An error reply from Redis (as opposed to a connection-level failure raised by ioredis). */
function isReplyError(error: unknown): error is Error {
  return error instanceof (ReplyError as ErrorConstructor);
}

/** A reply this code does not understand: a bug or foreign data under our prefix, not an outage. */
class UnexpectedReplyError extends Error {
  constructor(script: string, reply: unknown) {
    super(`unexpected ${script} reply: ${String(reply)}`);
  }
}

function byCreatedAt<T extends { createdAt: number }>(tieBreak: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => a.createdAt - b.createdAt || (tieBreak(a) < tieBreak(b) ? -1 : tieBreak(a) > tieBreak(b) ? 1 : 0);
}

class StoreKeys {
  readonly deviceIds: string;
  readonly deviceByTokenHash: string;
  readonly pendingPairings: string;

  constructor(private readonly prefix: string) {
    this.deviceIds = stateKey(prefix, 'devices');
    this.deviceByTokenHash = stateKey(prefix, 'device-by-token');
    this.pendingPairings = stateKey(prefix, 'pairing-pending');
  }

  device(deviceId: string): string {
    return stateKey(this.prefix, 'device', deviceId);
  }

  /** KEYS of the scripts that write a device: record, id set, token index. */
  forDevice(deviceId: string): string[] {
    return [this.device(deviceId), this.deviceIds, this.deviceByTokenHash];
  }

  pairing(requestId: string): string {
    return stateKey(this.prefix, 'pairing', requestId);
  }

  pendingPairingsOf(clientIp: string): string {
    return stateKey(this.prefix, 'pairing-pending-ip', clientIp);
  }
}
