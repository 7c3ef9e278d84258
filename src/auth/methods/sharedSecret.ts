import type { SecretMatcher } from '../SecretMatcher.js';
import type { AuthContext, AuthDecision, Authenticator, Identity } from '../types.js';

const NEXT: AuthDecision = { kind: 'next' };

/** gateway.auth.token (method `token`) or gateway.auth.password (method `password`): exact, constant-time. */
export class SharedSecretAuthenticator implements Authenticator {
  private readonly success: AuthDecision;

  constructor(
    readonly method: 'token' | 'password',
    private readonly matcher: SecretMatcher,
  ) {
    const identity: Identity = { method, identity: method, role: 'control' };
    this.success = { kind: 'authenticated', identity };
  }

  authenticate(context: AuthContext): AuthDecision {
    // A digest the device-token method already made is compared as it is; otherwise no hashing at all.
    const digest = context.secretDigestMemo;
    const matched = digest !== undefined ? this.matcher.matchesDigest(digest) : this.matcher.matches(context.secret);
    return matched ? this.success : NEXT;
  }
}
