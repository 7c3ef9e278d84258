import type { Role } from '../auth/types.js';
import type { DeviceRecord, PairingRequest, PairingStatus } from '../store/types.js';

/** Who is calling a pairing method (from the WebSocket session). */
export interface PairingCaller {
  readonly clientIp: string;
  readonly sessionId?: string;
  readonly role?: Role | null;
  readonly deviceId?: string | null;
  /** `local`, `token`, `device:<id>`, … for the logs. */
  readonly identity?: string | null;
}

export interface PairingRequestInput {
  readonly displayName: string;
  readonly platform?: string;
  readonly deviceId?: string;
}

/** What `node.pair.request` answers; the only time the claim secret leaves the gateway. */
export interface PairingRequestAnswer {
  readonly requestId: string;
  readonly deviceId: string;
  readonly status: 'pending';
  readonly expiresAt: number;
  readonly claimSecret: string;
}

/** A pairing request as control sessions see it: no hashes, keys or sealed tokens. */
export type PairingRequestView = Pick<
  PairingRequest,
  'requestId' | 'deviceId' | 'displayName' | 'platform' | 'clientIp' | 'status' | 'createdAt' | 'expiresAt'
>;

/** `node.pair.resolved` params and the `node.pair.claim` result. */
export interface ResolvedAnswer {
  readonly requestId: string;
  readonly status: PairingStatus;
  readonly deviceId: string;
  readonly token?: string;
}

export interface DeviceView {
  readonly deviceId: string;
  readonly displayName: string;
  readonly platform: string;
  readonly createdAt: number;
  readonly lastSeenAt: number | null;
}

/** Bus payload of 'pairing.resolved': ids only, never a token. */
export interface PairingResolvedEvent {
  readonly requestId: string;
  readonly status: 'approved' | 'rejected';
  readonly deviceId: string;
}

/** Bus payload of 'device.invalidate' (consumed by the auth module's device-token cache). */
export interface DeviceInvalidateEvent {
  readonly deviceId: string;
  readonly tokenHash: string;
}

export function pairingRequestView(request: PairingRequest): PairingRequestView {
  return {
    requestId: request.requestId,
    deviceId: request.deviceId,
    displayName: request.displayName,
    platform: request.platform,
    clientIp: request.clientIp,
    status: request.status,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
  };
}

export function deviceView(device: DeviceRecord): DeviceView {
  return {
    deviceId: device.deviceId,
    displayName: device.displayName,
    platform: device.platform,
    createdAt: device.createdAt,
    lastSeenAt: device.lastSeenAt,
  };
}
