import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { Identity, Role } from '../auth/types.js';
import { CLOSE_CODES, WS_LIMITS } from './limits.js';
import type { RpcSessionView } from './rpc/RpcMethod.js';

export type SessionState = 'pending' | 'connecting' | 'connected' | 'closed';
export type FrameKind = 'response' | 'notification';

/**
 * One WebSocket connection. Kept small on purpose (target < 16 KB RSS per idle session): no
 * per-session buffers beyond the socket's own and no per-session timers (the replica's sweep enforces
 * the handshake timeout and sends pings).
 */
export class WsSession implements RpcSessionView {
  readonly id = randomUUID();
  /** When the socket was accepted (ms epoch); the sweep closes it 10 s later unless it connected. */
  readonly admittedAt = Date.now();
  state: SessionState = 'pending';
  role: Role | undefined;
  identity: Identity | undefined;
  /** SHA-256 (hex) of the device token the session authenticated with; for closing on rotation. */
  deviceTokenHash: string | undefined;
  /** Requests being handled now. */
  outstanding = 0;
  /** Pings sent since the last pong. */
  missedPongs = 0;
  /** Held only until `connect`, which authenticates against the upgrade request. */
  upgrade: IncomingMessage | undefined;
  private disposers: Array<() => void> | undefined;
  private droppedNotifications = 0;

  constructor(
    readonly socket: WebSocket,
    readonly clientIp: string,
    /** Called once, on the first notification dropped for a slow client. */
    private readonly onFirstDrop: (session: WsSession) => void = () => {},
  ) {}

  get connected(): boolean {
    return this.state === 'connected';
  }

  get deviceId(): string | undefined {
    return this.identity?.deviceId;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Sends unless the client is not reading: notifications are dropped above one bound, and a
   * session whose unsent bytes pass the hard bound is closed (1013) rather than buffered further.
   */
  send(frame: string, kind: FrameKind): boolean {
    if (!this.isOpen) return false;
    const buffered = this.socket.bufferedAmount;
    if (buffered > WS_LIMITS.maxBufferedBytes) {
      this.close(CLOSE_CODES.tryAgainLater, 'client too slow');
      return false;
    }
    if (kind === 'notification' && buffered > WS_LIMITS.notificationDropBytes) {
      if (this.droppedNotifications++ === 0) this.onFirstDrop(this);
      return false;
    }
    this.socket.send(frame);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  onClose(dispose: () => void): void {
    if (this.state === 'closed') {
      dispose();
      return;
    }
    (this.disposers ??= []).push(dispose);
  }

  /** The socket closed: release follows and the upgrade request. */
  dispose(): void {
    this.state = 'closed';
    this.upgrade = undefined;
    const disposers = this.disposers ?? [];
    this.disposers = undefined;
    for (const dispose of disposers) {
      try {
        dispose();
      } catch {
        // a failing cleanup must not keep the others from running
      }
    }
  }
}
