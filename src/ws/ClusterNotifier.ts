import type { ClusterBus } from '../cluster/types.js';
import type { Logger } from '../telemetry/logger.js';
import type { Notifier, NotifyTarget } from './Notifier.js';
import { notificationFrame } from './rpc/frames.js';
import type { SessionRegistry } from './SessionRegistry.js';

export interface SessionNotifyMessage {
  readonly target: NotifyTarget;
  readonly method: string;
  readonly params: unknown;
}

export interface SessionCloseMessage {
  readonly deviceId: string;
  readonly code: number;
  readonly reason: string;
  readonly tokenHash?: string;
}

/**
 * Notifier over the cluster bus: every replica (this one included, since the bus serves local
 * subscribers at publish) delivers to its own matching sessions. A session-id target that lives
 * here is served directly, without a broker round trip.
 */
export class ClusterNotifier implements Notifier {
  constructor(
    private readonly bus: ClusterBus,
    private readonly sessions: SessionRegistry,
    private readonly logger: Logger,
  ) {}

  /** Subscribes to the session topics; returns the unsubscribe function. */
  listen(): () => void {
    const stopNotify = this.bus.subscribe('session.notify', ({ payload }) => this.deliverLocally(payload as SessionNotifyMessage));
    const stopClose = this.bus.subscribe('session.close', ({ payload }) => this.closeLocally(payload as SessionCloseMessage));
    return () => {
      stopNotify();
      stopClose();
    };
  }

  async notify(target: NotifyTarget, method: string, params: unknown): Promise<void> {
    if ('sessionId' in target && this.sessions.get(target.sessionId)) {
      this.sessions.deliver(target, notificationFrame(method, params));
      return;
    }
    const message: SessionNotifyMessage = { target, method, params };
    await this.bus.publish('session.notify', message);
  }

  async closeDeviceSessions(deviceId: string, code: number, reason: string, tokenHash?: string): Promise<void> {
    const message: SessionCloseMessage = tokenHash === undefined ? { deviceId, code, reason } : { deviceId, code, reason, tokenHash };
    await this.bus.publish('session.close', message);
  }

  private deliverLocally(message: SessionNotifyMessage): void {
    if (!message || typeof message.method !== 'string' || !message.target) return;
    this.sessions.deliver(message.target, notificationFrame(message.method, message.params));
  }

  private closeLocally(message: SessionCloseMessage): void {
    if (!message || typeof message.deviceId !== 'string') return;
    const closed = this.sessions.closeDevice(message.deviceId, message.code, message.reason, message.tokenHash);
    if (closed > 0) this.logger.info({ deviceId: message.deviceId, closed, code: message.code }, 'ws device sessions closed');
  }
}
