import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { Identity, Role } from '../../../src/auth/types.js';
import { WS_LIMITS } from '../../../src/ws/limits.js';
import { SessionRegistry } from '../../../src/ws/SessionRegistry.js';
import { WsSession } from '../../../src/ws/WsSession.js';

/** Just the surface WsSession uses: records what was sent and how it was closed. */
class RecordingSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: [number, string] | undefined;
  send(frame: string) {
    this.sent.push(frame);
  }
  close(code: number, reason: string) {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }
}

function session(clientIp = '127.0.0.1', onFirstDrop?: (s: WsSession) => void) {
  const socket = new RecordingSocket();
  return { socket, session: new WsSession(socket as unknown as WebSocket, clientIp, onFirstDrop) };
}

const identity = (deviceId?: string): Identity =>
  deviceId ? { method: 'device', identity: `device:${deviceId}`, role: 'node', deviceId } : { method: 'token', identity: 'token', role: 'control' };

function connected(registry: SessionRegistry, role: Role, deviceId?: string, tokenHash?: string) {
  const made = session();
  expect(registry.admit(made.session, 0)).toBe('admitted');
  registry.markConnected(made.session, role, identity(deviceId), tokenHash);
  return made;
}

describe('SessionRegistry', () => {
  it('caps connections per client IP and per replica, and frees the slot on remove', () => {
    const registry = new SessionRegistry(3);
    const a = session('203.0.113.7').session;
    const b = session('203.0.113.7').session;
    expect(registry.admit(a, 2)).toBe('admitted');
    expect(registry.admit(b, 2)).toBe('admitted');
    expect(registry.admit(session('203.0.113.7').session, 2)).toBe('client_ip_limit');
    expect(registry.admit(session('203.0.113.8').session, 2)).toBe('admitted');
    expect(registry.admit(session('203.0.113.9').session, 2)).toBe('replica_full');
    registry.remove(a);
    expect(registry.connectionsFrom('203.0.113.7')).toBe(1);
    expect(registry.admit(session('203.0.113.7').session, 2)).toBe('admitted');
  });

  it('delivers by role and device to connected sessions only, by session id in any state', () => {
    const registry = new SessionRegistry();
    const control = connected(registry, 'control');
    const node = connected(registry, 'node', 'd1');
    const pending = session();
    registry.admit(pending.session, 0);
    expect(registry.deliver({ role: 'control' }, 'c')).toBe(1);
    expect(registry.deliver({ deviceId: 'd1' }, 'd')).toBe(1);
    expect(registry.deliver({ sessionId: pending.session.id }, 'p')).toBe(1);
    expect(registry.deliver({ role: 'webchat' }, 'w')).toBe(0);
    expect(control.socket.sent).toEqual(['c']);
    expect(node.socket.sent).toEqual(['d']);
    expect(pending.socket.sent).toEqual(['p']);
    registry.remove(node.session);
    expect(registry.deliver({ deviceId: 'd1' }, 'gone')).toBe(0);
  });

  it('closes the sessions of a device: all, or only those that used a given token hash', () => {
    const registry = new SessionRegistry();
    const oldToken = connected(registry, 'node', 'd1', 'a'.repeat(64));
    const newToken = connected(registry, 'node', 'd1', 'b'.repeat(64));
    const other = connected(registry, 'node', 'd2', 'a'.repeat(64));
    expect(registry.closeDevice('d1', 4001, 'device token rotated', 'a'.repeat(64))).toBe(1);
    expect(oldToken.socket.closedWith).toEqual([4001, 'device token rotated']);
    expect(newToken.socket.closedWith).toBeUndefined();
    expect(registry.closeDevice('d1', 4001, 'device revoked')).toBe(2);
    expect(newToken.socket.closedWith).toEqual([4001, 'device revoked']);
    expect(other.socket.closedWith).toBeUndefined();
  });
});

describe('SessionRegistry pending sessions (the handshake-timeout sweep)', () => {
  it('lists only sessions admitted by the cutoff that have not connected, oldest first', () => {
    const registry = new SessionRegistry();
    const first = session().session;
    const second = session().session;
    const connecting = session().session;
    for (const s of [first, second, connecting]) expect(registry.admit(s, 0)).toBe('admitted');
    registry.markConnected(connecting, 'control', identity(), undefined);
    expect([...registry.pendingSince(Date.now())]).toEqual([first, second]);
    expect([...registry.pendingSince(first.admittedAt - 1)]).toEqual([]);
    registry.remove(first);
    expect([...registry.pendingSince(Date.now())]).toEqual([second]);
    const late = session().session;
    registry.admit(late, 0);
    expect([...registry.pendingSince(late.admittedAt - 1)].includes(late)).toBe(false);
  });
});

describe('WsSession backpressure', () => {
  it('drops notifications to a slow reader, still answers requests, and closes 1013 past the hard bound', () => {
    const drops: string[] = [];
    const { socket, session: slow } = session('127.0.0.1', (s) => drops.push(s.id));
    socket.bufferedAmount = WS_LIMITS.notificationDropBytes + 1;
    expect(slow.send('n1', 'notification')).toBe(false);
    expect(slow.send('n2', 'notification')).toBe(false);
    expect(drops).toEqual([slow.id]);
    expect(slow.send('r1', 'response')).toBe(true);
    socket.bufferedAmount = WS_LIMITS.maxBufferedBytes + 1;
    expect(slow.send('r2', 'response')).toBe(false);
    expect(socket.sent).toEqual(['r1']);
    expect(socket.closedWith).toEqual([1013, 'client too slow']);
  });

  it('runs close callbacks once, and at once when registered after the close', () => {
    const { session: s } = session();
    let runs = 0;
    s.onClose(() => (runs += 1));
    s.dispose();
    s.dispose();
    s.onClose(() => (runs += 10));
    expect(runs).toBe(11);
  });
});
