import type { DeviceTokenCache } from '../DeviceTokenCache.js';
import { secretDigest, type SecretMatcher } from '../SecretMatcher.js';
import type { AuthContext, AuthDecision, Authenticator } from '../types.js';

/** 32 random bytes, base64url without padding. */
const DEVICE_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const NEXT: AuthDecision = { kind: 'next' };

/**
 * A paired device's token, looked up by its SHA-256 through the in-process cache. A secret that is the
 * configured token or password, or that cannot be a device token, skips the lookup: device tokens are
 * random, so that is the documented order without a store round trip on the bearer/password hot path.
 */
export class DeviceTokenAuthenticator implements Authenticator {
  readonly method = 'device' as const;

  constructor(
    private readonly devices: DeviceTokenCache,
    private readonly sharedSecrets: readonly SecretMatcher[],
  ) {}

  async authenticate(context: AuthContext): Promise<AuthDecision> {
    const { secret } = context;
    if (secret === undefined || !DEVICE_TOKEN_SHAPE.test(secret)) return NEXT;
    // One SHA-256 serves both checks: the lookup hash is its hex (deviceTokenHash).
    const digest = secretDigest(secret);
    if (this.sharedSecrets.some((shared) => shared.matchesDigest(digest))) return NEXT;
    const device = await this.devices.findByTokenHash(digest.toString('hex'));
    if (!device) return NEXT;
    return {
      kind: 'authenticated',
      identity: { method: 'device', identity: `device:${device.deviceId}`, role: 'node', deviceId: device.deviceId },
    };
  }
}
