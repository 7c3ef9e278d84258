import type { IncomingHttpHeaders } from 'node:http';
import type { SocketDigestMemo } from './socketDigestMemo.js';

export type AuthMethod = 'loopback' | 'device' | 'token' | 'password' | 'tailscale' | 'trusted-proxy';
export type Role = 'control' | 'node' | 'webchat';
export type Transport = 'http' | 'ws';

/** Who a request is. `identity` is what /v1/whoami and the WS connect result show. */
export interface Identity {
  readonly method: AuthMethod;
  /** `local`, `device:<id>`, `token`, `password`, `tailscale:<login>`, `proxy:<user>` */
  readonly identity: string;
  /** `node` for devices, `control` for every other method. */
  readonly role: Role;
  readonly deviceId?: string;
}

/** Everything an authenticator may look at; built once per request by the transport. */
export interface AuthContext {
  readonly transport: Transport;
  /** TCP peer, IPv4-mapped IPv6 normalised to IPv4. */
  readonly peerIp: string;
  /** Resolved from gateway.trustedProxies and X-Forwarded-For. */
  readonly clientIp: string;
  readonly peerIsTrustedProxy: boolean;
  readonly headers: IncomingHttpHeaders;
  /** The presented secret (Authorization: Bearer, X-OpenClaw-Token, or WS params.auth.token), untrimmed. */
  readonly secret: string | undefined;
  /** WS connect with params.auth.token: only the secret methods (device, token, password) may answer. */
  readonly secretOnly?: boolean;
  /** Request path without the query string, for the `auth failed` log line. */
  readonly path?: string;
  /** secretDigest(secret), computed once by the first method that needs it (presentedDigest()). */
  secretDigestMemo?: string | undefined;
  /** The connection's last secret and digest, which presentedDigest() keeps up to date. */
  readonly socketDigest?: SocketDigestMemo | undefined;
}

export type AuthDecision =
  | { readonly kind: 'authenticated'; readonly identity: Identity }
  | { readonly kind: 'next' }
  | { readonly kind: 'reject'; readonly reason: string };

/**
 * One method of the chain (Envoy-filter shape): "authenticated as X", "not mine, next", or "reject". A method
 * that needs I/O starts it with startUnderActiveSpan (telemetry/spans.ts): the fast lane runs the chain in a
 * synchronous tracing scope, which an await does not carry.
 */
export interface Authenticator {
  readonly method: AuthMethod;
  authenticate(context: AuthContext): AuthDecision | Promise<AuthDecision>;
}

export type AuthOutcome =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly type: 'unauthorized'; readonly reason: string }
  | { readonly ok: false; readonly type: 'rate_limited'; readonly retryAfterSeconds: number }
  | { readonly ok: false; readonly type: 'unavailable'; readonly reason: string };
