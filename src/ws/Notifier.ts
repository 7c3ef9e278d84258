import type { Role } from '../auth/types.js';

/** Which WebSocket sessions, on any replica, a notification is for. */
export type NotifyTarget =
  | { readonly role: Role }
  | { readonly sessionId: string }
  | { readonly deviceId: string };

/**
 * Cluster-wide delivery to WebSocket sessions (implemented in ws/ over the cluster bus). Used by the
 * pairing service, hooks and device-token rotation; resolves once handed to the bus.
 */
export interface Notifier {
  notify(target: NotifyTarget, method: string, params: unknown): Promise<void>;
  /** Closes the sessions of a device (all of them, or only those authenticated with tokenHash). */
  closeDeviceSessions(deviceId: string, code: number, reason: string, tokenHash?: string): Promise<void>;
}
