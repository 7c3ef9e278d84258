import type { Identity } from '../auth/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth plugin before any non-public handler runs. */
    identity: Identity | null;
    /** Resolved from the TCP peer and gateway.trustedProxies (net/). */
    clientIp: string;
  }
}

export {};
