// A loopback TCP proxy in front of Redis for one gateway replica, so a test can cut that replica off
// while the other replicas keep talking to Redis directly. A cut may target only some connections,
// chosen by the first bytes the client sends (ioredis starts with CLIENT SETNAME <connectionName>),
// e.g. only the cluster bus subscriber. A freeze is a silent partition: the sockets stay open but
// nothing gets through in either direction, so the client notices nothing.
import net from 'node:net';
import type { HostPort } from '../helpers/redis.js';

/** Decides from a connection's first bytes whether a cut applies to it. */
export type ConnectionFilter = (firstBytes: string) => boolean;

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Resets the matching open connections and refuses matching new ones until heal(). */
  cut(filter?: ConnectionFilter): void;
  /** Silently drops all traffic of the matching open connections (new ones still pass) until heal(). */
  freeze(filter?: ConnectionFilter): void;
  /** Ends the cut; frozen connections are reset (their streams lost bytes), so clients reconnect. */
  heal(): void;
  close(): Promise<void>;
}

const EVERYTHING: ConnectionFilter = () => true;

export async function startTcpProxy(target: HostPort): Promise<TcpProxy> {
  const open = new Map<net.Socket, { upstream: net.Socket; firstBytes: string; frozen: boolean }>();
  let refuse: ConnectionFilter | undefined;
  const server = net.createServer((client) => {
    client.on('error', () => {});
    client.once('data', (chunk: Buffer) => {
      const firstBytes = chunk.toString('latin1');
      if (refuse?.(firstBytes)) {
        client.resetAndDestroy();
        return;
      }
      const upstream = net.connect(target.port, target.host);
      upstream.on('error', () => {});
      const connection = { upstream, firstBytes, frozen: false };
      open.set(client, connection);
      const close = () => {
        open.delete(client);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close);
      upstream.on('close', close);
      upstream.write(chunk);
      client.on('data', (data: Buffer) => connection.frozen || upstream.write(data));
      upstream.on('data', (data: Buffer) => connection.frozen || client.write(data));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cut(filter = EVERYTHING) {
      refuse = filter;
      for (const [client, { upstream, firstBytes }] of open) {
        if (!filter(firstBytes)) continue;
        client.resetAndDestroy();
        upstream.destroy();
      }
    },
    freeze(filter = EVERYTHING) {
      for (const connection of open.values()) if (filter(connection.firstBytes)) connection.frozen = true;
    },
    heal() {
      refuse = undefined;
      for (const [client, connection] of open) {
        if (!connection.frozen) continue;
        client.resetAndDestroy();
        connection.upstream.destroy();
      }
    },
    async close() {
      for (const [client, { upstream }] of open) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
