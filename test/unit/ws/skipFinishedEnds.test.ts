import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { Duplex, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { skipFinishedEnds } from '../../../src/ws/skipFinishedEnds.js';

/** Counts end() calls without arguments that reach node's own end() on a stream that has already finished. */
function countFinishedEnds(): { count: () => number; restore: () => void } {
  let count = 0;
  const patched: [object, 'end', unknown][] = [];
  for (const proto of [Writable.prototype, Socket.prototype]) {
    const original = proto.end as (...args: unknown[]) => unknown;
    patched.push([proto, 'end', original]);
    proto.end = function countingEnd(this: Writable, ...args: unknown[]) {
      if (args.length === 0 && this.writableFinished) count += 1;
      return original.apply(this, args);
    } as never;
  }
  return {
    count: () => count,
    restore: () => {
      for (const [proto, key, original] of patched) (proto as Record<string, unknown>)[key] = original;
    },
  };
}

let server: Server | undefined;
afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

/** A ws server on loopback; one client opens, exchanges a message, closes cleanly; resolves with both close codes. */
async function cleanClose(install: boolean): Promise<{ serverCode: number; clientCode: number }> {
  const wss = new WebSocketServer({ noServer: true, clientTracking: false });
  server = createServer();
  const serverClosed = new Promise<number>((resolve) => {
    server!.on('upgrade', (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, (websocket) => {
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
  // the server's socket sees its 'close' (socketOnClose) before the WebSocket's 'close'; let the client's finish too
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { serverCode, clientCode: clientCode as number };
}

describe('skipFinishedEnds', () => {
  it("leaves node no finished stream to end in ws's clean close, and the close is still clean on both sides", async () => {
    const counter = countFinishedEnds();
    try {
      const control = await cleanClose(false);
      const withoutGuard = counter.count();
      await new Promise((resolve) => server!.close(resolve));
      server = undefined;
      const guarded = await cleanClose(true);
      const withGuard = counter.count() - withoutGuard;
      // without the guard: the receiver and the socket on 'end', the receiver on 'close' (the client side adds its own)
      expect(withoutGuard).toBeGreaterThanOrEqual(3);
      // with it only the client's remain (the client's streams are not guarded)
      expect(withoutGuard - withGuard).toBe(3);
      expect(control).toEqual({ serverCode: 1000, clientCode: 1000 });
      expect(guarded).toEqual({ serverCode: 1000, clientCode: 1000 });
    } finally {
      counter.restore();
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
