import type { GatewayConfig } from '../config/types.js';
import type { DeviceTokenCache } from './DeviceTokenCache.js';
import { DeviceTokenAuthenticator } from './methods/deviceToken.js';
import { LoopbackAuthenticator } from './methods/loopback.js';
import { SharedSecretAuthenticator } from './methods/sharedSecret.js';
import { TailscaleAuthenticator } from './methods/tailscale.js';
import { TrustedProxyAuthenticator } from './methods/trustedProxy.js';
import { SecretMatcher } from './SecretMatcher.js';
import type { AuthContext, AuthDecision, AuthMethod, Authenticator, Identity } from './types.js';

/** The methods a WebSocket `connect` with params.auth.token may be answered by. */
export const SECRET_METHODS: ReadonlySet<AuthMethod> = new Set(['device', 'token', 'password']);

/**
 * The documented order as data: loopback, device token, bearer token, password, Tailscale, trusted proxy.
 * A method that is off is simply absent. Tailscale `require` leaves only loopback and Tailscale: tokens,
 * passwords, device tokens and proxy headers are refused.
 */
export function buildAuthChain(config: GatewayConfig, devices: DeviceTokenCache): Authenticator[] {
  const token = new SecretMatcher(config.auth.token);
  const password = new SecretMatcher(config.auth.password);
  const tailscaleMode = config.tailscale.mode;
  const acceptsOthers = tailscaleMode !== 'require';
  const chain: Array<Authenticator | false> = [
    config.auth.allowLoopback && new LoopbackAuthenticator(),
    acceptsOthers && new DeviceTokenAuthenticator(devices, [token, password].filter((m) => m.configured)),
    acceptsOthers && token.configured && new SharedSecretAuthenticator('token', token),
    acceptsOthers && password.configured && new SharedSecretAuthenticator('password', password),
    tailscaleMode !== 'disabled' && new TailscaleAuthenticator(),
    acceptsOthers && config.auth.trustedProxy.enabled && new TrustedProxyAuthenticator(config.auth.trustedProxy.header),
  ];
  return chain.filter((entry): entry is Authenticator => entry !== false);
}

export type ChainResult =
  | { readonly kind: 'authenticated'; readonly identity: Identity }
  | { readonly kind: 'rejected'; readonly reason: string | undefined }
  /** No method answered and a lookup could not be made (store down): not the client's fault. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** First success wins; a `reject` ends the walk; a lookup error lets later methods still answer. */
export async function runAuthChain(chain: readonly Authenticator[], context: AuthContext): Promise<ChainResult> {
  let lookupFailed: string | undefined;
  for (const authenticator of chain) {
    if (context.secretOnly && !SECRET_METHODS.has(authenticator.method)) continue;
    let decision: AuthDecision;
    try {
      const pending = authenticator.authenticate(context);
      // Most methods answer synchronously; awaiting those would cost a microtask turn each.
      decision = pending instanceof Promise ? await pending : pending;
    } catch {
      lookupFailed = `${authenticator.method} lookup failed`;
      continue;
    }
    if (decision.kind === 'authenticated') return decision;
    if (decision.kind === 'reject') return { kind: 'rejected', reason: decision.reason };
  }
  if (lookupFailed !== undefined) return { kind: 'unavailable', reason: lookupFailed };
  return { kind: 'rejected', reason: undefined };
}
