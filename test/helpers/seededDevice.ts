import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh state dir whose embedded store already holds one paired device (the store loads devices.json at
 * start), so a test can present that device's token without pairing first. Only the token's SHA-256 is
 * written, as the gateway itself would.
 */
export function stateDirWithDevice(device: { token: string; deviceId: string; displayName?: string }): string {
  const stateDir = join(mkdtempSync(join(tmpdir(), 'openclaw-seeded-')), 'state');
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const tokenHash = createHash('sha256').update(device.token).digest('hex');
  const record = { deviceId: device.deviceId, displayName: device.displayName ?? 'test phone', platform: 'ios', tokenHash, createdAt: Date.now(), lastSeenAt: null };
  writeFileSync(join(stateDir, 'devices.json'), JSON.stringify({ version: 1, devices: [record] }), { mode: 0o600 });
  return stateDir;
}
