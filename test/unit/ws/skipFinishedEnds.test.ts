import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { Duplex, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { skipFinishedEnds } from '../../../src/ws/skipFinishedEnds.js';

/** Records the streams on which an end() without arguments reaches node's own end() after they have finished. */
function recordFinishedEnds(): { ended: object[]; restore: () => void } {
  const ended: object[] = [];
  const originals = [Writable.prototype, Socket.prototype].map((proto) => [proto, proto.end] as const);
  for (const [proto, original] of originals) {
    proto.end = function recordingEnd(this: Writable, ...args: unknown[]) {
      if (args.length === 0 && this.writableFinished) ended.push(this);
      return (original as (...endArgs: unknown[]) => unknown).apply(this, args);
    } as never;
  }
  return {
    ended,
    restore: () => {
      for (const [proto, original] of originals) proto.end = original as never;
    },
  };
}

let server: Server | undefined;
afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

/**
 * A ws server on loopback; one client opens, exchanges a message, closes cleanly. Resolves with both close codes
 * and the server side's streams (the upgraded socket and ws's frame receiver), to tell its end() calls apart.
 */
async function cleanClose(install: boolean): Promise<{ serverCode: number; clientCode: number; serverStreams: object[] }> {
  const wss = new WebSocketServer({ noServer: true, clientTracking: false });
  server = createServer();
  const serverStreams: object[] = [];
  const serverClosed = new Promise<number>((resolve) => {
    server!.on('upgrade', (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, (websocket) => {
        serverStreams.push(socket, (websocket as unknown as { _receiver: object })._receiver);
        if (install) skipFinishedEnds(websocket, socket);
        websocket.on('message', (data) => websocket.send(data));
        websocket.on('close', (code) => resolve(code));
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await once(client, 'open');
  client.send('ping');
  const [echo] = await once(client, 'message');
  expect(String(echo)).toBe('ping');
  client.close(1000, 'bye');
  const [[clientCode], serverCode] = await Promise.all([once(client, 'close'), serverClosed]);
  return { serverCode, clientCode: clientCode as number, serverStreams };
}

describe('skipFinishedEnds', () => {
  it("leaves node no finished server stream to end in ws's clean close, and the close is still clean on both sides", async () => {
    const recorder = recordFinishedEnds();
    try {
      const control = await cleanClose(false);
      const unguarded = recorder.ended.filter((stream) => control.serverStreams.includes(stream)).length;
      await new Promise((resolve) => server!.close(resolve));
      server = undefined;
      const guarded = await cleanClose(true);
      // without the guard: the receiver on 'end' and on 'close' (finished long before), the socket on 'end' once
      // its own end has flushed; with it, none
      expect(unguarded).toBeGreaterThanOrEqual(2);
      expect(recorder.ended.filter((stream) => guarded.serverStreams.includes(stream))).toEqual([]);
      expect([control.serverCode, control.clientCode, guarded.serverCode, guarded.clientCode]).toEqual([1000, 1000, 1000, 1000]);
    } finally {
      recorder.restore();
    }
  });

  it('passes every other end() through: one that ends, one with a callback on a finished stream', async () => {
    const receiver = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const socket = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
    skipFinishedEnds({ _receiver: receiver } as unknown as WebSocket, socket);
    expect(receiver.end).not.toBe(Writable.prototype.end);
    expect(socket.end).not.toBe(Duplex.prototype.end);

    socket.end();
    receiver.end();
    await Promise.all([once(socket, 'finish'), once(receiver, 'finish')]);
    expect(socket.writableFinished && receiver.writableFinished).toBe(true);

    expect(socket.end()).toBe(socket);
    const error = await new Promise<NodeJS.ErrnoException | null | undefined>((resolve) => {
      (socket.end as (callback: (error?: NodeJS.ErrnoException | null) => void) => void)(resolve);
    });
    expect(error?.code).toBe('ERR_STREAM_ALREADY_FINISHED');
    const written = await new Promise<NodeJS.ErrnoException | null | undefined>((resolve) => {
      (receiver.end as (chunk: string, callback: (error?: NodeJS.ErrnoException | null) => void) => void)('late', resolve);
    });
    expect(written?.code).toBe('ERR_STREAM_WRITE_AFTER_END');
  });

  it('leaves a WebSocket whose receiver is not a stream alone', () => {
    const socket = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
    const websocket = { _receiver: null };
    expect(() => skipFinishedEnds(websocket as unknown as WebSocket, socket)).not.toThrow();
    expect(websocket._receiver).toBeNull();
  });
});
