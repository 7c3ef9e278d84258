import { CLOSE_CODES, WS_LIMITS } from './limits.js';
import type { SessionRegistry } from './SessionRegistry.js';

/** How often pending sessions are checked against the handshake timeout (so it fires after 10–11 s). */
export const HANDSHAKE_SWEEP_MS = 1_000;

/**
 * The replica's two shared timers, instead of timers per session (each a Timeout object per socket):
 * one closes sessions that sent no `connect` within WS_LIMITS.handshakeTimeoutMs (1008), the other pings
 * every session each interval and cuts off a peer that missed two pongs. Returns a stop function.
 */
export function startSessionSweep(sessions: SessionRegistry, pingIntervalSeconds: number): () => void {
  const handshakeTimer = setInterval(() => {
    for (const session of sessions.pendingSince(Date.now() - WS_LIMITS.handshakeTimeoutMs)) {
      session.close(CLOSE_CODES.policyViolation, 'connect timeout');
    }
  }, HANDSHAKE_SWEEP_MS);
  handshakeTimer.unref();
  const pingTimer = pingIntervalSeconds > 0 ? setInterval(() => pingAll(sessions), pingIntervalSeconds * 1000) : undefined;
  pingTimer?.unref();
  return () => {
    clearInterval(handshakeTimer);
    clearInterval(pingTimer);
  };
}

function pingAll(sessions: SessionRegistry): void {
  for (const session of sessions.all()) {
    if (session.missedPongs >= 2) {
      session.socket.terminate();
      continue;
    }
    session.missedPongs += 1;
    try {
      session.socket.ping();
    } catch {
      // the socket is closing; its close event removes the session
    }
  }
}
