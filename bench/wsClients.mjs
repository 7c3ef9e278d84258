// WebSocket load from a child process (its own fd table and event loop, away from the bench's autocannon).
// Usage: node wsClients.mjs '<json options>'
//   {"mode":"handshakes","url","token","concurrency","durationMs","sources":[ip…]}
//       → prints {"completed","failed","seconds","firstError"} after durationMs
//   {"mode":"idle","url","token","count","concurrency","sources":[ip…]}
//       → opens count authenticated sessions, prints {"opened","failed","firstError"}, holds them until a line
//         arrives on stdin, prints {"stillOpen"} and exits.
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

async function handshakes() {
  let completed = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const socket = await session();
      if (socket === null) {
        failed += 1;
        continue;
      }
      completed += 1;
      socket.close(1000);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ completed, failed, seconds, firstError })}\n`);
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
