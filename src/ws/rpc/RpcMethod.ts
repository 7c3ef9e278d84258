import type { Identity, Role } from '../../auth/types.js';
import type { GatewayServices } from '../../services.js';
import type { RpcId } from './frames.js';

/** What a method may know about the session calling it. Before `connect`, role and identity are absent. */
export interface RpcSessionView {
  readonly id: string;
  readonly clientIp: string;
  readonly connected: boolean;
  readonly role: Role | undefined;
  readonly identity: Identity | undefined;
  /** Set when the session authenticated with a device token. */
  readonly deviceId: string | undefined;
}

export interface RpcCallContext {
  readonly session: RpcSessionView;
  readonly services: GatewayServices;
  /** The JSON-RPC id of the request being handled, so streaming methods can tag their notifications. */
  readonly requestId?: RpcId;
  /** Sends a notification to the calling session only; false when dropped (slow client, or closed). */
  notify(method: string, params: unknown): boolean;
  /** Runs dispose when the session closes (at once if it already has); for follows and subscriptions. */
  onClose(dispose: () => void): void;
}

/**
 * One JSON-RPC method. Feature modules export arrays of these; the dispatcher enforces `roles`,
 * `beforeConnect` and `authorize` in one place, so a handler only ever runs for a permitted caller.
 */
export interface RpcMethod {
  readonly name: string;
  /** Roles that may call the method once connected. */
  readonly roles: readonly Role[];
  /** May be called before `connect` (pairing requests and claims). */
  readonly beforeConnect?: boolean;
  /** Narrower rule than the role (e.g. a node may rotate only its own device's token); false → -32003. */
  authorize?(params: unknown, call: RpcCallContext): boolean;
  handle(params: unknown, call: RpcCallContext): Promise<unknown>;
}
