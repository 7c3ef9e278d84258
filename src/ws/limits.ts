/** Hard limits of the WebSocket API; every per-session queue and buffer is bounded by one of these. */
export const WS_LIMITS = {
  /** Largest frame after `connect` (ws closes with 1009 beyond). */
  maxPayloadBytes: 1024 * 1024,
  /** Largest frame before `connect` (close 1009 beyond). */
  preConnectMaxFrameBytes: 64 * 1024,
  /** No `connect` within this: close 1008. */
  handshakeTimeoutMs: 10_000,
  /** Requests of one session being handled at once; beyond: -32002. */
  maxOutstandingRequests: 32,
  /** Above this many unsent bytes, notifications to the session are dropped. */
  notificationDropBytes: 1024 * 1024,
  /** Above this many unsent bytes, the session is closed with 1013. */
  maxBufferedBytes: 4 * 1024 * 1024,
  /** Sessions (connected or not) one replica holds; beyond: close 1013. */
  maxSessionsPerReplica: 50_000,
  /** How long shutdown waits for clients to answer the 1012 close before cutting them off. */
  shutdownCloseGraceMs: 2_000,
  /** Strings a client may send in `connect.client`. */
  maxClientFieldLength: 128,
} as const;

/** WebSocket close codes the gateway uses (RFC 6455 section 7.4 plus the application range). */
export const CLOSE_CODES = {
  policyViolation: 1008,
  messageTooBig: 1009,
  serviceRestart: 1012,
  tryAgainLater: 1013,
  deviceTokenRevoked: 4001,
} as const;
