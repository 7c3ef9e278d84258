import net from 'node:net';

// Linux may hand the same ephemeral port to consecutive bind(0) calls once it is closed again,
// so remember what this process already handed out and never return it twice.
const handedOut = new Set<number>();

function listenOnce(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** A TCP port that was free on `host` a moment ago (listen on port 0, read it, close). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no new free port found on ${host}`);
}
