import type { AuthContext, AuthDecision, Authenticator } from '../types.js';
import { identityFromHeader } from './identityHeader.js';

const NEXT: AuthDecision = { kind: 'next' };

/** The user a trusted reverse proxy vouches for in the configured header (gateway.auth.trustedProxy.header). */
export class TrustedProxyAuthenticator implements Authenticator {
  readonly method = 'trusted-proxy' as const;

  constructor(private readonly header: string) {}

  authenticate(context: AuthContext): AuthDecision {
    if (!context.peerIsTrustedProxy) return NEXT;
    const user = identityFromHeader(context.headers, this.header);
    if (user === undefined) return NEXT;
    return { kind: 'authenticated', identity: { method: 'trusted-proxy', identity: `proxy:${user}`, role: 'control' } };
  }
}
