import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { LocalBus } from '../../../src/cluster/LocalBus.js';
import type { BusEnvelope } from '../../../src/cluster/types.js';
import { ClusterNotifier } from '../../../src/ws/ClusterNotifier.js';
import { SessionRegistry } from '../../../src/ws/SessionRegistry.js';
import { WsSession } from '../../../src/ws/WsSession.js';

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
  }
}

function setup() {
  const bus = new LocalBus('replica-a');
  const published: BusEnvelope[] = [];
  bus.subscribe('session.notify', (envelope) => published.push(envelope));
  bus.subscribe('session.close', (envelope) => published.push(envelope));
  const sessions = new SessionRegistry();
  const notifier = new ClusterNotifier(bus, sessions, pino({ level: 'silent' }));
  const stop = notifier.listen();
  const add = (role: 'control' | 'node', deviceId?: string, tokenHash?: string) => {
    const socket = new RecordingSocket();
    const session = new WsSession(socket as unknown as WebSocket, '127.0.0.1');
    sessions.admit(session, 0);
    const identity = deviceId
      ? ({ method: 'device', identity: `device:${deviceId}`, role: 'node', deviceId } as const)
      : ({ method: 'token', identity: 'token', role: 'control' } as const);
    sessions.markConnected(session, role, identity, tokenHash);
    return { socket, session };
  };
  return { notifier, published, add, stop };
}

describe('ClusterNotifier', () => {
  it('publishes role notifications on the bus and delivers them to local sessions through it', async () => {
    const { notifier, published, add } = setup();
    const control = add('control');
    const node = add('node', 'd1');
    await notifier.notify({ role: 'control' }, 'hook', { id: 'h1' });
    expect(published.map((e) => e.topic)).toEqual(['session.notify']);
    expect(control.socket.sent.map((f) => JSON.parse(f))).toEqual([{ jsonrpc: '2.0', method: 'hook', params: { id: 'h1' } }]);
    expect(node.socket.sent).toEqual([]);
  });

  it('serves a session id that lives on this replica directly, and publishes any other', async () => {
    const { notifier, published, add } = setup();
    const local = add('control');
    await notifier.notify({ sessionId: local.session.id }, 'node.pair.resolved', { status: 'approved' });
    expect(published).toEqual([]);
    expect(local.socket.sent).toHaveLength(1);
    await notifier.notify({ sessionId: 'on-another-replica' }, 'node.pair.resolved', {});
    expect(published.map((e) => e.topic)).toEqual(['session.notify']);
  });

  it('closes device sessions through the bus, by token hash or all of them', async () => {
    const { notifier, add, stop } = setup();
    const oldToken = add('node', 'd1', 'old');
    const newToken = add('node', 'd1', 'new');
    await notifier.closeDeviceSessions('d1', 4001, 'token rotated', 'old');
    expect(oldToken.socket.closedWith).toEqual([4001, 'token rotated']);
    expect(newToken.socket.closedWith).toBeUndefined();
    await notifier.closeDeviceSessions('d1', 4001, 'device revoked');
    expect(newToken.socket.closedWith).toEqual([4001, 'device revoked']);
    stop();
    const later = add('control');
    await notifier.notify({ role: 'control' }, 'hook', {});
    expect(later.socket.sent).toEqual([]);
  });
});
