import { hasForwardingHeaders, isLoopbackHost, isLoopbackIp } from '../../net/loopback.js';
import type { AuthContext, AuthDecision, Authenticator, Identity } from '../types.js';

const LOCAL: Identity = { method: 'loopback', identity: 'local', role: 'control' };
const NEXT: AuthDecision = { kind: 'next' };

/** A local client: loopback peer, loopback Host, and no sign of a proxy in between. All three, always. */
export class LoopbackAuthenticator implements Authenticator {
  readonly method = 'loopback' as const;

  authenticate(context: AuthContext): AuthDecision {
    // All three must hold; the header check is the cheapest and, behind a proxy, the one that fails.
    const local =
      !hasForwardingHeaders(context.headers) && isLoopbackIp(context.peerIp) && isLoopbackHost(context.headers.host);
    return local ? { kind: 'authenticated', identity: LOCAL } : NEXT;
  }
}
