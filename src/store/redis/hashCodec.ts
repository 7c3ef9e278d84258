import type { DeviceRecord, PairingRequest, PairingStatus } from '../types.js';

/** Field/value pairs as HSET takes them; null fields are left out (absent = null). */
export type HashFields = string[];
export type HashRecord = Record<string, string>;

/** HGETALL as a Lua script returns it: a flat [field, value, …] array. */
export function hashFromFlat(flat: unknown): HashRecord {
  const record: HashRecord = {};
  if (!Array.isArray(flat)) return record;
  for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = String(flat[i + 1]);
  return record;
}

export function encodeDevice(device: DeviceRecord): HashFields {
  const fields = [
    'deviceId', device.deviceId,
    'displayName', device.displayName,
    'platform', device.platform,
    'tokenHash', device.tokenHash,
    'createdAt', String(device.createdAt),
  ];
  if (device.lastSeenAt !== null) fields.push('lastSeenAt', String(device.lastSeenAt));
  return fields;
}

export function decodeDevice(hash: HashRecord): DeviceRecord | null {
  const { deviceId, displayName, platform, tokenHash, createdAt, lastSeenAt } = hash;
  if (deviceId === undefined || tokenHash === undefined || createdAt === undefined) return null;
  return {
    deviceId,
    displayName: displayName ?? '',
    platform: platform ?? '',
    tokenHash,
    createdAt: Number(createdAt),
    lastSeenAt: lastSeenAt === undefined ? null : Number(lastSeenAt),
  };
}

export function encodePairingRequest(request: PairingRequest): HashFields {
  const fields = [
    'requestId', request.requestId,
    'deviceId', request.deviceId,
    'displayName', request.displayName,
    'platform', request.platform,
    'clientIp', request.clientIp,
    'status', request.status,
    'createdAt', String(request.createdAt),
    'expiresAt', String(request.expiresAt),
    'claimSecretHash', request.claimSecretHash,
  ];
  if (request.claimPublicKey !== undefined) fields.push('claimPublicKey', request.claimPublicKey);
  if (request.sealedToken !== null) fields.push('sealedToken', request.sealedToken);
  if (request.resolvedAt !== null) fields.push('resolvedAt', String(request.resolvedAt));
  return fields;
}

const STATUSES: ReadonlySet<string> = new Set<PairingStatus>(['pending', 'approved', 'rejected']);

export function decodePairingRequest(hash: HashRecord): PairingRequest | null {
  const { requestId, deviceId, status, createdAt, expiresAt, claimSecretHash, claimPublicKey, sealedToken, resolvedAt } = hash;
  if (requestId === undefined || deviceId === undefined || status === undefined || !STATUSES.has(status)) return null;
  if (createdAt === undefined || expiresAt === undefined || claimSecretHash === undefined) return null;
  return {
    requestId,
    deviceId,
    displayName: hash.displayName ?? '',
    platform: hash.platform ?? '',
    clientIp: hash.clientIp ?? '',
    status: status as PairingStatus,
    createdAt: Number(createdAt),
    expiresAt: Number(expiresAt),
    claimSecretHash,
    ...(claimPublicKey === undefined ? {} : { claimPublicKey }),
    sealedToken: sealedToken ?? null,
    resolvedAt: resolvedAt === undefined ? null : Number(resolvedAt),
  };
}
