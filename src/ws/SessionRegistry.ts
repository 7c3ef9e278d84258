import type { Identity, Role } from '../auth/types.js';
import { WS_LIMITS } from './limits.js';
import type { NotifyTarget } from './Notifier.js';
import type { WsSession } from './WsSession.js';

export type Admission = 'admitted' | 'replica_full' | 'client_ip_limit';

/** The sessions of this replica, indexed by id, role and device, and counted per client IP. */
export class SessionRegistry {
  private readonly byId = new Map<string, WsSession>();
  private readonly byRole = new Map<Role, Set<WsSession>>();
  private readonly byDevice = new Map<string, Set<WsSession>>();
  private readonly perClientIp = new Map<string, number>();
  /** Sessions still waiting for `connect`, oldest first (a Set keeps insertion order). */
  private readonly pending = new Set<WsSession>();

  constructor(private readonly maxSessions: number = WS_LIMITS.maxSessionsPerReplica) {}

  get size(): number {
    return this.byId.size;
  }

  /** Registers a new connection unless the replica or its client IP is at its cap (0 = no IP cap). */
  admit(session: WsSession, maxPerClientIp: number): Admission {
    if (this.byId.size >= this.maxSessions) return 'replica_full';
    const count = this.perClientIp.get(session.clientIp) ?? 0;
    if (maxPerClientIp > 0 && count >= maxPerClientIp) return 'client_ip_limit';
    this.perClientIp.set(session.clientIp, count + 1);
    this.byId.set(session.id, session);
    this.pending.add(session);
    return 'admitted';
  }

  markConnected(session: WsSession, role: Role, identity: Identity, deviceTokenHash: string | undefined): void {
    if (!this.byId.has(session.id)) return;
    this.pending.delete(session);
    session.state = 'connected';
    session.role = role;
    session.identity = identity;
    session.deviceTokenHash = deviceTokenHash;
    addTo(this.byRole, role, session);
    if (identity.deviceId) addTo(this.byDevice, identity.deviceId, session);
  }

  remove(session: WsSession): void {
    if (this.byId.get(session.id) !== session) return;
    this.byId.delete(session.id);
    this.pending.delete(session);
    const count = (this.perClientIp.get(session.clientIp) ?? 1) - 1;
    if (count > 0) this.perClientIp.set(session.clientIp, count);
    else this.perClientIp.delete(session.clientIp);
    if (session.role) removeFrom(this.byRole, session.role, session);
    if (session.deviceId) removeFrom(this.byDevice, session.deviceId, session);
  }

  /** Sessions admitted at or before `admittedBefore` (ms epoch) that have not connected yet, oldest first. */
  *pendingSince(admittedBefore: number): Generator<WsSession> {
    for (const session of this.pending) {
      if (session.admittedAt > admittedBefore) return;
      yield session;
    }
  }

  get(sessionId: string): WsSession | undefined {
    return this.byId.get(sessionId);
  }

  all(): IterableIterator<WsSession> {
    return this.byId.values();
  }

  connectionsFrom(clientIp: string): number {
    return this.perClientIp.get(clientIp) ?? 0;
  }

  /** Role and device targets reach connected sessions only; a session id reaches its session in any state. */
  select(target: NotifyTarget): WsSession[] {
    if ('sessionId' in target) {
      const session = this.byId.get(target.sessionId);
      return session ? [session] : [];
    }
    if ('role' in target) return [...(this.byRole.get(target.role) ?? [])];
    return [...(this.byDevice.get(target.deviceId) ?? [])];
  }

  /** Sends one serialised notification to every local session of the target; returns how many took it. */
  deliver(target: NotifyTarget, frame: string): number {
    let delivered = 0;
    for (const session of this.select(target)) if (session.send(frame, 'notification')) delivered += 1;
    return delivered;
  }

  /** Closes the local sessions of a device (only those that used tokenHash, when given). */
  closeDevice(deviceId: string, code: number, reason: string, tokenHash?: string): number {
    let closed = 0;
    for (const session of this.select({ deviceId })) {
      if (tokenHash !== undefined && session.deviceTokenHash !== tokenHash) continue;
      session.close(code, reason);
      closed += 1;
    }
    return closed;
  }
}

function addTo<K>(index: Map<K, Set<WsSession>>, key: K, session: WsSession): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(session);
}

function removeFrom<K>(index: Map<K, Set<WsSession>>, key: K, session: WsSession): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(session);
  if (set.size === 0) index.delete(key);
}
