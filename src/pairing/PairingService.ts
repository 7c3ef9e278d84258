import { randomBytes, randomUUID } from 'node:crypto';
import type { ClusterBus } from '../cluster/types.js';
import { GatewayError } from '../errors.js';
import {
  StoreUnavailableError,
  type DeviceRecord,
  type PairingLimits,
  type PairingRequest,
  type Store,
} from '../store/types.js';
import type { GatewayMetrics } from '../telemetry/GatewayMetrics.js';
import type { Logger } from '../telemetry/logger.js';
import type { Notifier } from '../ws/Notifier.js';
import { RequesterDeliveries } from './RequesterDeliveries.js';
import {
  SealError,
  deriveClaimPublicKey,
  generateClaimSecret,
  generateDeviceToken,
  hashToken,
  isSecretShaped,
  sealToken,
  secretsEqual,
  unsealToken,
} from './tokens.js';
import {
  deviceView,
  pairingRequestView,
  type DeviceInvalidateEvent,
  type DeviceView,
  type PairingCaller,
  type PairingRequestAnswer,
  type PairingRequestView,
  type PairingResolvedEvent,
  type ResolvedAnswer,
} from './types.js';

export const PAIRING_LIMITS: PairingLimits = { perClientIp: 3, total: 100 };
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_DISPLAY_NAME_LENGTH = 100;
export const MAX_PLATFORM_LENGTH = 64;
/** WebSocket close code for sessions whose device token was rotated or revoked. */
export const CLOSE_TOKEN_REVOKED = 4001;

export interface PairingServiceOptions {
  readonly store: Store;
  readonly bus: ClusterBus;
  readonly notifier: Notifier;
  readonly logger: Logger;
  readonly ttlSeconds: number;
  readonly limits?: PairingLimits;
  readonly now?: () => number;
  readonly metrics?: Pick<GatewayMetrics, 'pairingRequest'>;
}

/**
 * Device pairing and device tokens, for every replica alike. The store is the only shared state and
 * the only arbiter of races; every answer is given after the store acknowledged the write. Tokens and
 * claim secrets are never stored, published on the bus or logged: the store holds their hashes and a
 * token sealed to the requester's claim key (see tokens.ts).
 */
export class PairingService {
  readonly deliveries: RequesterDeliveries;
  private readonly store: Store;
  private readonly bus: ClusterBus;
  private readonly notifier: Notifier;
  private readonly logger: Logger;
  private readonly limits: PairingLimits;
  private readonly now: () => number;

  constructor(private readonly options: PairingServiceOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.notifier = options.notifier;
    this.logger = options.logger;
    this.limits = options.limits ?? PAIRING_LIMITS;
    this.now = options.now ?? Date.now;
    this.deliveries = new RequesterDeliveries({
      bus: options.bus,
      notifier: options.notifier,
      logger: options.logger,
      answerFor: (requestId, claimSecret) => this.peek(requestId, claimSecret),
      now: this.now,
    });
  }

  start(): void {
    this.deliveries.start();
  }

  stop(): void {
    this.deliveries.stop();
  }

  async request(input: unknown, caller: PairingCaller): Promise<PairingRequestAnswer> {
    const { displayName, platform, deviceId } = validateRequestInput(input);
    const createdAt = this.now();
    const claimSecret = generateClaimSecret();
    const request: PairingRequest = {
      requestId: randomUUID(),
      deviceId: deviceId ?? generateDeviceId(),
      displayName,
      platform,
      clientIp: caller.clientIp,
      status: 'pending',
      createdAt,
      expiresAt: createdAt + this.options.ttlSeconds * 1000,
      claimSecretHash: hashToken(claimSecret),
      claimPublicKey: deriveClaimPublicKey(claimSecret),
      sealedToken: null,
      resolvedAt: null,
    };
    const outcome = await this.storeCall(() => this.store.createPairingRequest(request, this.limits));
    if (outcome !== 'created') {
      this.logger.warn({ clientIp: caller.clientIp, limit: outcome }, 'pairing request refused');
      this.options.metrics?.pairingRequest('limited');
      const scope = outcome === 'client_ip_limit' ? 'from this client' : 'in total';
      throw new GatewayError('rate_limited', `Too many pending pairing requests ${scope}. Please try again later.`, {
        retryAfterSeconds: Math.max(1, this.options.ttlSeconds),
      });
    }
    if (caller.sessionId !== undefined) {
      this.deliveries.remember(request.requestId, caller.sessionId, claimSecret, request.expiresAt);
    }
    this.logger.info(
      { requestId: request.requestId, deviceId: request.deviceId, clientIp: caller.clientIp },
      'pairing requested',
    );
    this.options.metrics?.pairingRequest('requested');
    await this.notifySafely({ role: 'control' }, 'node.pair.requested', { request: pairingRequestView(request) });
    return { requestId: request.requestId, deviceId: request.deviceId, status: 'pending', expiresAt: request.expiresAt, claimSecret };
  }

  async approve(requestIdParam: unknown, caller: PairingCaller): Promise<{ deviceId: string; approvedAt: number }> {
    const request = await this.pendingRequest(requestIdParam);
    const { requestId } = request;
    if (!request.claimPublicKey) throw new GatewayError('internal_error', 'Pairing request has no claim key.');
    const token = generateDeviceToken();
    const approvedAt = this.now();
    const device: DeviceRecord = {
      deviceId: request.deviceId,
      displayName: request.displayName,
      platform: request.platform,
      tokenHash: hashToken(token),
      createdAt: approvedAt,
      lastSeenAt: null,
    };
    const replaced = await this.storeCall(() => this.store.getDevice(request.deviceId));
    const sealedToken = sealToken(token, request.claimPublicKey, requestId);
    const result = await this.storeCall(() =>
      this.store.resolvePairingRequest(requestId, { status: 'approved', resolvedAt: approvedAt, sealedToken, device }),
    );
    assertResolved(result.outcome);
    this.logger.info({ requestId, deviceId: device.deviceId, by: caller.identity ?? undefined }, 'pairing approved');
    this.options.metrics?.pairingRequest('approved');
    // Pairing again under an existing device id replaces that device's token.
    if (replaced && replaced.tokenHash !== device.tokenHash) await this.invalidate(replaced.deviceId, replaced.tokenHash, 'device re-paired');
    await this.publishResolved({ requestId, status: 'approved', deviceId: device.deviceId });
    return { deviceId: device.deviceId, approvedAt };
  }

  async reject(requestIdParam: unknown, caller: PairingCaller): Promise<{ status: 'rejected' }> {
    const request = await this.pendingRequest(requestIdParam);
    const { requestId } = request;
    const result = await this.storeCall(() =>
      this.store.resolvePairingRequest(requestId, { status: 'rejected', resolvedAt: this.now(), sealedToken: null, device: null }),
    );
    assertResolved(result.outcome);
    this.logger.info({ requestId, deviceId: request.deviceId, by: caller.identity ?? undefined }, 'pairing rejected');
    this.options.metrics?.pairingRequest('rejected');
    await this.publishResolved({ requestId, status: 'rejected', deviceId: request.deviceId });
    return { status: 'rejected' };
  }

  async listPending(): Promise<{ requests: PairingRequestView[] }> {
    const requests = await this.storeCall(() => this.store.listPendingPairingRequests());
    return { requests: requests.map(pairingRequestView) };
  }

  /** `node.pair.claim`: the resolution for the holder of the claim secret; the token at most once. */
  async claim(requestId: unknown, claimSecret: unknown): Promise<ResolvedAnswer> {
    const id = validateRequestId(requestId);
    if (!isSecretShaped(claimSecret)) throw new GatewayError('invalid_request', 'claimSecret must be the string node.pair.request returned.');
    const claimSecretHash = hashToken(claimSecret);
    const result = await this.storeCall(() => this.store.claimPairingRequest(id, claimSecretHash));
    if (result.outcome === 'not_found') throw new GatewayError('not_found', 'Pairing request not found or expired.');
    if (result.outcome === 'forbidden' || !secretsEqual(result.request.claimSecretHash, claimSecretHash)) {
      throw new GatewayError('forbidden', 'The claim secret does not match this pairing request.');
    }
    const { request } = result;
    const answer: ResolvedAnswer = { requestId: id, status: request.status, deviceId: request.deviceId };
    if (request.status !== 'approved' || result.sealedToken === null) return answer;
    this.logger.info({ requestId: id, deviceId: request.deviceId }, 'pairing token claimed');
    this.options.metrics?.pairingRequest('claimed');
    return { ...answer, token: this.unseal(result.sealedToken, claimSecret, id) };
  }

  async listDevices(): Promise<{ devices: DeviceView[] }> {
    const devices = await this.storeCall(() => this.store.listDevices());
    return { devices: devices.map(deviceView) };
  }

  /** A control session may rotate any device's token, a node session only its own. */
  async rotateToken(deviceId: unknown, caller: PairingCaller): Promise<{ deviceId: string; token: string }> {
    const id = validateDeviceId(deviceId);
    const ownDevice = caller.role === 'node';
    if (ownDevice && caller.deviceId !== id) throw new GatewayError('forbidden', 'A node may rotate only its own device token.');
    const token = generateDeviceToken();
    const replaced = await this.storeCall(() => this.store.replaceDeviceToken(id, hashToken(token)));
    if (replaced === null) throw new GatewayError('not_found', `Device "${id}" is not paired.`);
    this.logger.info({ deviceId: id, by: caller.identity ?? undefined }, 'device token rotated');
    // The calling node's own session used the old token too: let its answer go out before the close.
    await this.invalidate(id, replaced.previousTokenHash, 'token rotated', { deferClose: ownDevice });
    return { deviceId: id, token };
  }

  async revoke(deviceId: unknown, caller: PairingCaller): Promise<{ deviceId: string; status: 'revoked' }> {
    const id = validateDeviceId(deviceId);
    const removed = await this.storeCall(() => this.store.deleteDevice(id));
    if (removed === null) throw new GatewayError('not_found', `Device "${id}" is not paired.`);
    this.logger.info({ deviceId: id, by: caller.identity ?? undefined }, 'device revoked');
    await this.invalidate(id, removed.tokenHash, 'device revoked', { allSessions: true });
    return { deviceId: id, status: 'revoked' };
  }

  /** The claim answer without consuming the claim: used for live delivery on the requester's replica. */
  private async peek(requestId: string, claimSecret: string): Promise<ResolvedAnswer | null> {
    const request = await this.store.getPairingRequest(requestId);
    if (!request || !secretsEqual(request.claimSecretHash, hashToken(claimSecret))) return null;
    const answer: ResolvedAnswer = { requestId, status: request.status, deviceId: request.deviceId };
    if (request.status !== 'approved' || request.sealedToken === null) return answer;
    return { ...answer, token: this.unseal(request.sealedToken, claimSecret, requestId) };
  }

  private unseal(sealedToken: string, claimSecret: string, requestId: string): string {
    try {
      return unsealToken(sealedToken, claimSecret, requestId);
    } catch (error) {
      if (!(error instanceof SealError)) throw error;
      this.logger.error({ requestId, reason: error.message }, 'pairing token unseal failed');
      throw new GatewayError('internal_error', 'The sealed device token could not be opened.');
    }
  }

  private async pendingRequest(requestId: unknown): Promise<PairingRequest> {
    const id = validateRequestId(requestId);
    const request = await this.storeCall(() => this.store.getPairingRequest(id));
    if (!request) throw new GatewayError('not_found', 'Pairing request not found or expired.');
    if (request.status !== 'pending') throw new GatewayError('conflict', `Pairing request is already ${request.status}.`);
    return request;
  }

  /**
   * After the store dropped or replaced a token hash: every replica's token cache forgets it (bus), then
   * the sessions that authenticated with it are closed with 4001 wherever they are.
   */
  private async invalidate(
    deviceId: string,
    tokenHash: string,
    reason: string,
    options: { allSessions?: boolean; deferClose?: boolean } = {},
  ): Promise<void> {
    const event: DeviceInvalidateEvent = { deviceId, tokenHash };
    try {
      await this.bus.publish('device.invalidate', event);
    } catch (error) {
      // The store no longer maps the hash, so caches that missed this refuse it at their next lookup.
      this.logger.warn({ deviceId, err: error }, 'device invalidation not published');
    }
    const close = () =>
      this.notifier
        .closeDeviceSessions(deviceId, CLOSE_TOKEN_REVOKED, reason, options.allSessions ? undefined : tokenHash)
        .catch((error: unknown) => this.logger.warn({ deviceId, err: error }, 'device sessions not closed'));
    if (options.deferClose) setImmediate(() => void close());
    else await close();
  }

  private async publishResolved(event: PairingResolvedEvent): Promise<void> {
    try {
      await this.bus.publish('pairing.resolved', event);
    } catch (error) {
      // The requester can still claim; replicas re-check their waiting requesters on resync.
      this.logger.warn({ requestId: event.requestId, err: error }, 'pairing resolution not published');
    }
  }

  private async notifySafely(target: Parameters<Notifier['notify']>[0], method: string, params: unknown): Promise<void> {
    try {
      await this.notifier.notify(target, method, params);
    } catch (error) {
      this.logger.warn({ method, err: error }, 'notification not published');
    }
  }

  private async storeCall<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        throw new GatewayError('unavailable', 'The pairing store is unavailable. Please try again later.');
      }
      throw error;
    }
  }
}

function assertResolved(outcome: 'resolved' | 'not_found' | 'conflict'): void {
  if (outcome === 'not_found') throw new GatewayError('not_found', 'Pairing request not found or expired.');
  if (outcome === 'conflict') throw new GatewayError('conflict', 'Pairing request was already resolved.');
}

function generateDeviceId(): string {
  return `dev-${randomBytes(12).toString('base64url')}`;
}

export function validateRequestInput(input: unknown): { displayName: string; platform: string; deviceId: string | undefined } {
  const params = (input ?? {}) as Record<string, unknown>;
  if (typeof params !== 'object' || Array.isArray(params)) throw invalid('params must be an object.');
  const { displayName, platform, deviceId } = params;
  if (typeof displayName !== 'string' || displayName.trim().length === 0 || displayName.length > MAX_DISPLAY_NAME_LENGTH) {
    throw invalid(`displayName must be a string of 1 to ${MAX_DISPLAY_NAME_LENGTH} characters.`);
  }
  if (platform !== undefined && (typeof platform !== 'string' || platform.length > MAX_PLATFORM_LENGTH)) {
    throw invalid(`platform must be a string of at most ${MAX_PLATFORM_LENGTH} characters.`);
  }
  if (deviceId !== undefined) validateDeviceId(deviceId);
  return { displayName, platform: (platform as string | undefined) ?? '', deviceId: deviceId as string | undefined };
}

export function validateDeviceId(deviceId: unknown): string {
  if (typeof deviceId !== 'string' || !DEVICE_ID_PATTERN.test(deviceId)) {
    throw invalid('deviceId must be 1 to 64 characters from A-Z a-z 0-9 . _ -');
  }
  return deviceId;
}

export function validateRequestId(requestId: unknown): string {
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > 128) {
    throw invalid('requestId must be a non-empty string.');
  }
  return requestId;
}

function invalid(message: string): GatewayError {
  return new GatewayError('invalid_request', message);
}
