import type { IncomingMessage } from 'node:http';
import type { AuthContext, AuthOutcome, Transport } from '../auth/types.js';

/** The part of auth/AuthService the WebSocket face uses: same chain, same failed-auth limiter as HTTP. */
export interface WsAuthenticator {
  contextFor(raw: IncomingMessage, transport: Transport, options?: { secret?: string; secretOnly?: boolean }): AuthContext;
  authenticate(context: AuthContext): Promise<AuthOutcome>;
}
