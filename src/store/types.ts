/** A paired device. The token itself is never stored: only its SHA-256 hash (hex). */
export interface DeviceRecord {
  readonly deviceId: string;
  readonly displayName: string;
  readonly platform: string;
  readonly tokenHash: string;
  readonly createdAt: number;
  readonly lastSeenAt: number | null;
}

export type PairingStatus = 'pending' | 'approved' | 'rejected';

export interface PairingRequest {
  readonly requestId: string;
  readonly deviceId: string;
  readonly displayName: string;
  readonly platform: string;
  readonly clientIp: string;
  readonly status: PairingStatus;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** SHA-256 (hex) of the claim secret handed to the requester. */
  readonly claimSecretHash: string;
  /** X25519 public key (base64url) derived from the claim secret; approval seals the token to it. */
  readonly claimPublicKey?: string;
  /** Device token sealed with a key only the claim secret unlocks; removed once claimed. */
  readonly sealedToken: string | null;
  readonly resolvedAt: number | null;
}

export interface PairingLimits {
  readonly perClientIp: number;
  readonly total: number;
}

export type CreatePairingOutcome = 'created' | 'client_ip_limit' | 'total_limit';

export interface PairingResolution {
  readonly status: 'approved' | 'rejected';
  readonly resolvedAt: number;
  readonly sealedToken: string | null;
  /** Created atomically with the approval. */
  readonly device: DeviceRecord | null;
}

export type ResolveOutcome =
  | { readonly outcome: 'resolved'; readonly request: PairingRequest }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'conflict'; readonly request: PairingRequest };

export type ClaimOutcome =
  | { readonly outcome: 'claimed'; readonly request: PairingRequest; readonly sealedToken: string | null }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'forbidden' };

/**
 * The one storage interface; an embedded (in-process) and a Redis engine implement it and pass the
 * same contract suite. Every method resolves only after the write is durable in its engine.
 */
export interface Store {
  readonly kind: 'embedded' | 'redis';
  /** True while the backing store can serve requests (no round trip). */
  isReady(): boolean;
  /** Opens connections / loads state. */
  start(): Promise<void>;
  close(): Promise<void>;

  saveDevice(device: DeviceRecord): Promise<void>;
  getDevice(deviceId: string): Promise<DeviceRecord | null>;
  listDevices(): Promise<DeviceRecord[]>;
  findDeviceByTokenHash(tokenHash: string): Promise<DeviceRecord | null>;
  /** Replaces the token hash; null when the device does not exist. */
  replaceDeviceToken(deviceId: string, tokenHash: string): Promise<{ previousTokenHash: string } | null>;
  deleteDevice(deviceId: string): Promise<DeviceRecord | null>;
  touchDevice(deviceId: string, lastSeenAt: number): Promise<void>;

  createPairingRequest(request: PairingRequest, limits: PairingLimits): Promise<CreatePairingOutcome>;
  /** Pending, approved or rejected; null once expired or unknown. */
  getPairingRequest(requestId: string): Promise<PairingRequest | null>;
  listPendingPairingRequests(): Promise<PairingRequest[]>;
  /** Atomic: exactly one of concurrent resolutions of the same request wins. */
  resolvePairingRequest(requestId: string, resolution: PairingResolution): Promise<ResolveOutcome>;
  /** Hands out the sealed token at most once, to the holder of the claim secret. */
  claimPairingRequest(requestId: string, claimSecretHash: string): Promise<ClaimOutcome>;
}

/** Resolved requests stay claimable this long after resolution (bounded by nothing else). */
export const RESOLVED_REQUEST_RETENTION_SECONDS = 600;
/** Hard cap on paired devices per gateway, so the embedded map and Redis set stay bounded. */
export const MAX_DEVICES = 100_000;

export class StoreUnavailableError extends Error {
  readonly code = 'ERR_STORE_UNAVAILABLE';
  constructor(message = 'store unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}
