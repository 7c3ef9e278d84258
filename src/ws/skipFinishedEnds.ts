import type { Duplex, Writable } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * ws's clean close calls end() three times on streams that have already finished: on the socket's 'end' its
 * frame receiver's and the socket's own, on 'close' the receiver's again. For each, node builds an
 * ERR_STREAM_ALREADY_FINISHED with a full stack trace and hands it to no one (≈ 5–7 µs on Node 20 and 24;
 * ≈ 10 % of the gateway's CPU in the handshake benchmark). An end() without arguments on a finished stream does
 * nothing else, so it returns at once; an end() with data or a callback goes through as before.
 */
function endUnlessFinished(this: Writable, ...args: unknown[]): Writable {
  if (args.length === 0 && this.writableFinished) return this;
  const end = Object.getPrototypeOf(this).end as (...endArgs: unknown[]) => Writable;
  return end.apply(this, args);
}

/** For a WebSocket that ws has just set up on `socket` (handleUpgrade's callback). */
export function skipFinishedEnds(websocket: WebSocket, socket: Duplex): void {
  socket.end = endUnlessFinished as Duplex['end'];
  // ws's frame parser, a Writable it keeps on a private field; left alone if a ws version moves it
  const receiver = (websocket as unknown as { _receiver?: unknown })._receiver;
  if (receiver !== null && typeof receiver === 'object' && 'writableFinished' in receiver) {
    (receiver as Writable).end = endUnlessFinished as Writable['end'];
  }
}
