// Pairs a device over the WebSocket API (node.pair.request → node.pair.approve from a loopback control
// session → token in node.pair.resolved) and returns its device token.
import { WebSocket } from 'ws';

function rpcSocket(url, localAddress) {
  const socket = new WebSocket(url, { localAddress });
  const frames = [];
  const waiters = new Set();
  socket.on('message', (data) => {
    frames.push(JSON.parse(data.toString()));
    for (const wake of waiters) wake();
  });
  const waitFor = (find, what, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = frames.find(find);
        if (found) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`pairing: timed out waiting for ${what}; frames: ${JSON.stringify(frames).slice(0, 1000)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  let nextId = 1;
  return {
    opened: new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    }),
    async call(method, params) {
      const id = nextId++;
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      const response = await waitFor((f) => f.id === id, `${method} response`);
      if (!response.result) throw new Error(`pairing: ${method} failed: ${JSON.stringify(response.error)}`);
      return response.result;
    },
    waitForNotification: (method) => waitFor((f) => f.method === method && f.id === undefined, method),
    close: () => socket.close(),
  };
}

export async function pairDevice(wsUrl, deviceId = 'bench-device') {
  const device = rpcSocket(wsUrl, '127.0.0.2');
  const control = rpcSocket(wsUrl, '127.0.0.1');
  try {
    await Promise.all([device.opened, control.opened]);
    const { requestId } = await device.call('node.pair.request', { displayName: 'Bench device', platform: 'bench', deviceId });
    await control.call('connect', { role: 'control' });
    await control.call('node.pair.approve', { requestId });
    const resolved = await device.waitForNotification('node.pair.resolved');
    const { token } = resolved.params;
    if (typeof token !== 'string') throw new Error('pairing: node.pair.resolved carried no token');
    return token;
  } finally {
    device.close();
    control.close();
  }
}
