// WebSocket load from a child process (its own fd table and event loop, away from the bench's autocannon).
// Usage: node wsClients.mjs '<json options>'
//   {"mode":"handshakes","url","token","concurrency","durationMs","sources":[ip…],"client":"raw"|"ws"}
//       → prints {"completed","failed","seconds","firstError","client"} after durationMs
//         client "raw" (default): a minimal RFC 6455 client on a plain TCP socket (see rawSession); "ws": the
//         ws library's client, which costs this process more CPU per handshake than the gateway spends.
//   {"mode":"idle","url","token","count","concurrency","sources":[ip…]}
//       → opens count authenticated sessions, prints {"opened","failed","firstError"}, holds them until a line
//         arrives on stdin, prints {"stillOpen"} and exits.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { WebSocket } from 'ws';

const options = JSON.parse(process.argv[2]);
const connectFrame = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'connect',
  params: { role: 'control', auth: { token: options.token }, client: { name: 'bench', version: '1' } },
});
let nextSource = 0;
let firstError;

/** Opens one socket from the next source address and completes `connect`; resolves with the socket or null. */
function session() {
  const localAddress = options.sources[nextSource++ % options.sources.length];
  return new Promise((resolve) => {
    const socket = new WebSocket(options.url, { localAddress, perMessageDeflate: false });
    let settled = false;
    const settle = (value, error) => {
      if (settled) return;
      settled = true;
      if (error && firstError === undefined) firstError = String(error);
      if (value === null) socket.terminate();
      resolve(value);
    };
    socket.on('error', (error) => settle(null, error.message));
    socket.on('close', (code) => settle(null, `closed ${code}`));
    socket.on('unexpected-response', (_req, response) => settle(null, `HTTP ${response.statusCode}`));
    socket.on('open', () => socket.send(connectFrame));
    socket.once('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.id === 1 && frame.result) settle(socket);
      else settle(null, JSON.stringify(frame.error ?? frame).slice(0, 300));
    });
  });
}

// The raw client's bytes, built once: the upgrade request, the masked `connect` frame and a masked close (1000).
const target = new URL(options.url);
const upgradeRequest = Buffer.from(
  `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
);
const maskedConnectFrame = clientFrame(0x1, Buffer.from(connectFrame));
const maskedCloseFrame = clientFrame(0x8, Buffer.from([0x03, 0xe8]));

/** One final client frame (FIN set, masked as RFC 6455 requires; one mask key for the whole run is enough here). */
function clientFrame(opcode, payload) {
  const mask = randomBytes(4);
  const lengthBytes = payload.length < 126 ? 0 : 2;
  if (payload.length > 0xffff) throw new Error('frame too large for this client');
  const frame = Buffer.alloc(2 + lengthBytes + 4 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | (lengthBytes === 0 ? payload.length : 126);
  if (lengthBytes) frame.writeUInt16BE(payload.length, 2);
  mask.copy(frame, 2 + lengthBytes);
  for (let i = 0; i < payload.length; i++) frame[6 + lengthBytes + i] = payload[i] ^ mask[i % 4];
  return frame;
}

/**
 * The same exchange as session() on a plain socket: upgrade request, wait for 101, send `connect`, read the
 * first (unmasked) server frame and check it is the result. Resolves with the socket or null.
 */
function rawSession() {
  const localAddress = options.sources[nextSource++ % options.sources.length];
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.hostname, port: Number(target.port), localAddress });
    let buffered = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const settle = (value, error) => {
      if (settled) return;
      settled = true;
      if (error && firstError === undefined) firstError = String(error);
      if (value === null) socket.destroy();
      resolve(value);
    };
    socket.setNoDelay(true);
    socket.on('error', (error) => settle(null, error.message));
    socket.on('close', () => settle(null, 'closed before the connect result'));
    socket.on('connect', () => socket.write(upgradeRequest));
    socket.on('data', (chunk) => {
      if (settled) return;
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (!upgraded) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const status = buffered.toString('latin1', 0, buffered.indexOf('\r\n'));
        if (!status.startsWith('HTTP/1.1 101 ')) return settle(null, status);
        upgraded = true;
        buffered = buffered.subarray(end + 4);
        socket.write(maskedConnectFrame);
      }
      // Frames until the first data frame; pings (the gateway's heartbeat may come first) are skipped.
      while (buffered.length >= 2) {
        let length = buffered[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffered.length < 4) return;
          length = buffered.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) return settle(null, 'unexpectedly large frame');
        if (buffered.length < offset + length) return;
        const opcode = buffered[0] & 0x0f;
        if (opcode === 0x9 || opcode === 0xa) {
          buffered = buffered.subarray(offset + length);
          continue;
        }
        if (buffered[0] !== 0x81) return settle(null, `first data frame opcode ${opcode}`);
        const frame = JSON.parse(buffered.toString('utf8', offset, offset + length));
        if (frame.id === 1 && frame.result) settle(socket);
        else settle(null, JSON.stringify(frame.error ?? frame).slice(0, 300));
        return;
      }
    });
  });
}

/** Starts the closing handshake of a raw session; the server answers and ends the TCP connection. */
function closeRaw(socket) {
  socket.removeAllListeners('data');
  socket.removeAllListeners('close');
  socket.on('end', () => socket.destroy());
  socket.write(maskedCloseFrame);
}

async function handshakes() {
  const raw = (options.client ?? 'raw') === 'raw';
  let completed = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const socket = await (raw ? rawSession() : session());
      if (socket === null) {
        failed += 1;
        continue;
      }
      completed += 1;
      if (raw) closeRaw(socket);
      else socket.close(1000);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ completed, failed, seconds, firstError, client: raw ? 'raw' : 'ws' })}\n`);
  // Let the closing handshakes finish so the gateway is idle for whatever comes next.
  setTimeout(() => process.exit(0), 500);
}

async function idle() {
  const sockets = [];
  let failed = 0;
  let remaining = options.count;
  const worker = async () => {
    while (remaining > 0) {
      remaining -= 1;
      const socket = await session();
      if (socket === null) failed += 1;
      else sockets.push(socket);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  process.stdout.write(`${JSON.stringify({ opened: sockets.length, failed, firstError })}\n`);
  process.stdin.once('data', () => {
    const stillOpen = sockets.filter((socket) => socket.readyState === WebSocket.OPEN).length;
    process.stdout.write(`${JSON.stringify({ stillOpen })}\n`);
    for (const socket of sockets) socket.terminate();
    setTimeout(() => process.exit(0), 100);
  });
}

if (options.mode === 'handshakes') await handshakes();
else if (options.mode === 'idle') await idle();
else throw new Error(`unknown mode ${options.mode}`);
