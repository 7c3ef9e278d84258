/**
 * Replica-to-replica notifications. The embedded engine delivers in-process; the Redis engine uses
 * pub/sub. Delivery is at-most-once: anything that must not be lost is written to the store first.
 */
export type BusTopic =
  | 'auth.blocked' // an IP was blocked by the failed-auth limiter
  | 'device.invalidate' // a device token hash changed or was revoked
  | 'session.notify' // a notification for sessions by role / session id / device id
  | 'session.close' // close sessions that used a device
  | 'pairing.resolved'; // a pairing request was approved or rejected (no secrets)

export interface BusEnvelope<T = unknown> {
  readonly topic: BusTopic;
  readonly origin: string; // replica id of the publisher
  readonly payload: T;
}

export type BusHandler = (envelope: BusEnvelope) => void;

export interface ClusterBus {
  readonly kind: 'embedded' | 'redis';
  start(): Promise<void>;
  /** Resolves once the message was handed to the broker (and to local subscribers). */
  publish<T>(topic: BusTopic, payload: T): Promise<void>;
  subscribe(topic: BusTopic, handler: BusHandler): () => void;
  /** Called after a reconnect: messages may have been missed while disconnected. */
  onResync(handler: () => void): () => void;
  isReady(): boolean;
  close(): Promise<void>;
}

/** Largest message accepted on the bus; bigger payloads are refused at publish. */
export const MAX_BUS_MESSAGE_BYTES = 256 * 1024;
