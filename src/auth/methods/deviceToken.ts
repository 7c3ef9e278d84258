import type { DeviceRecord } from '../../store/types.js';
import { startUnderActiveSpan } from '../../telemetry/spans.js';
import type { DeviceTokenCache } from '../DeviceTokenCache.js';
import { presentedDigest, type SecretMatcher } from '../SecretMatcher.js';
import type { AuthContext, AuthDecision, Authenticator } from '../types.js';

/** 32 random bytes, base64url without padding. */
const DEVICE_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const NEXT: AuthDecision = { kind: 'next' };

/**
 * A paired device's token, looked up by its SHA-256 through the in-process cache. A secret that is the
 * configured token or password, or that cannot be a device token, skips the lookup: device tokens are
 * random, so that is the documented order without a store round trip on the bearer/password hot path.
 * A cache hit answers synchronously (a Map lookup after the one digest); only a miss goes to the store.
 */
export class DeviceTokenAuthenticator implements Authenticator {
  readonly method = 'device' as const;

  constructor(
    private readonly devices: DeviceTokenCache,
    private readonly sharedSecrets: readonly SecretMatcher[],
  ) {}

  authenticate(context: AuthContext): AuthDecision | Promise<AuthDecision> {
    const { secret } = context;
    if (secret === undefined || secret.length !== 43 || !DEVICE_TOKEN_SHAPE.test(secret)) return NEXT;
    // One SHA-256 serves every check: the shared secrets compare it, and it is the lookup hash (pairing's hashToken).
    const tokenHash = presentedDigest(context) as string;
    for (const shared of this.sharedSecrets) if (shared.matchesDigest(tokenHash)) return NEXT;
    const known = this.devices.peek(tokenHash);
    if (known !== undefined) return decisionFor(known);
    // The lookup may run in the fast lane's synchronous scope: its second Redis command comes after an await.
    return startUnderActiveSpan(() => this.devices.findByTokenHash(tokenHash)).then(decisionFor);
  }
}

/** One decision per cached record (records are replaced, never changed, when a device changes). */
const decisions = new WeakMap<DeviceRecord, AuthDecision>();

function decisionFor(device: DeviceRecord | null): AuthDecision {
  if (!device) return NEXT;
  let decision = decisions.get(device);
  if (!decision) {
    const identity = { method: 'device', identity: `device:${device.deviceId}`, role: 'node', deviceId: device.deviceId } as const;
    decision = { kind: 'authenticated', identity };
    decisions.set(device, decision);
  }
  return decision;
}
