import { isLoopbackIp } from '../../net/loopback.js';
import type { AuthContext, AuthDecision, Authenticator } from '../types.js';
import { identityFromHeader } from './identityHeader.js';

export const TAILSCALE_LOGIN_HEADER = 'tailscale-user-login';
const NEXT: AuthDecision = { kind: 'next' };

/**
 * The identity Tailscale Serve injects. Only Serve itself (a loopback peer) or a trusted proxy can be
 * believed; from anyone else the header is just something the client typed.
 */
export class TailscaleAuthenticator implements Authenticator {
  readonly method = 'tailscale' as const;

  authenticate(context: AuthContext): AuthDecision {
    if (!context.peerIsTrustedProxy && !isLoopbackIp(context.peerIp)) return NEXT;
    const login = identityFromHeader(context.headers, TAILSCALE_LOGIN_HEADER);
    if (login === undefined) return NEXT;
    return { kind: 'authenticated', identity: { method: 'tailscale', identity: `tailscale:${login}`, role: 'control' } };
  }
}
