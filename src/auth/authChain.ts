import type { GatewayConfig } from '../config/types.js';
import { bindToActiveSpan } from '../telemetry/spans.js';
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

/**
 * First success wins; a `reject` ends the walk; a lookup error lets later methods still answer. Synchronous
 * as long as every method asked answers synchronously (the hot path: no promise, no microtask turn).
 */
export function runAuthChain(chain: readonly Authenticator[], context: AuthContext): ChainResult | Promise<ChainResult> {
  return walkChain(chain, context, 0, undefined);
}

function walkChain(
  chain: readonly Authenticator[],
  context: AuthContext,
  start: number,
  lookupFailed: string | undefined,
): ChainResult | Promise<ChainResult> {
  for (let index = start; index < chain.length; index++) {
    const authenticator = chain[index] as Authenticator;
    if (context.secretOnly && !SECRET_METHODS.has(authenticator.method)) continue;
    let decision: AuthDecision | Promise<AuthDecision>;
    try {
      decision = authenticator.authenticate(context);
    } catch {
      lookupFailed = `${authenticator.method} lookup failed`;
      continue;
    }
    if (decision instanceof Promise) {
      const failed = lookupFailed;
      // Bound: later methods may look up in Redis, under the auth span (spans.ts bindToActiveSpan).
      return decision.then(
        bindToActiveSpan((settled: AuthDecision) => (settled.kind === 'next' ? walkChain(chain, context, index + 1, failed) : chainEnd(settled))),
        bindToActiveSpan(() => walkChain(chain, context, index + 1, `${authenticator.method} lookup failed`)),
      );
    }
    if (decision.kind !== 'next') return chainEnd(decision);
  }
  if (lookupFailed !== undefined) return { kind: 'unavailable', reason: lookupFailed };
  return { kind: 'rejected', reason: undefined };
}

function chainEnd(decision: Exclude<AuthDecision, { kind: 'next' }>): ChainResult {
  return decision.kind === 'authenticated' ? decision : { kind: 'rejected', reason: decision.reason };
}
