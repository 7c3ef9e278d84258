import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { isLoopbackBind } from '../config/rules.js';
import { connectionsCheckingIntervalMs, type FrontDoor } from './buildServer.js';

export interface ListenResult {
  readonly addresses: string[];
  close(): Promise<void>;
  /** Closes keep-alive sockets that are idle now (in-flight requests finish first). */
  closeIdleConnections(): void;
  /** From now on every response carries `Connection: close` (added only when draining: no cost before). */
  closeConnectionsAfterResponse(): void;
}

/**
 * Listens per bind mode. `loopback` means 127.0.0.1 AND ::1: fastify serves the first, a secondary
 * node:http server on the same handler serves the second (fastify's own multi-bind follows /etc/hosts,
 * which often lacks ::1). `lan` prefers the dual-stack wildcard and falls back to IPv4 without IPv6.
 */
export async function listen(app: FastifyInstance, bind: string, port: number, front: FrontDoor = (fallback) => fallback): Promise<ListenResult> {
  const primaryHost = bind === 'loopback' ? '127.0.0.1' : bind === 'lan' ? '::' : bind;
  try {
    await app.listen({ host: primaryHost, port });
  } catch (error) {
    if (bind !== 'lan' || !isAddressUnavailable(error)) throw error;
    await app.listen({ host: '0.0.0.0', port });
  }
  const addresses = [formatAddress(primaryHost, port)];
  const secondary: Server[] = [];
  if (bind === 'loopback') {
    const server = await listenSecondary(app, '::1', actualPort(app), front);
    if (server) {
      secondary.push(server);
      addresses.push(formatAddress('::1', actualPort(app)));
    } else app.log.warn({ host: '::1' }, 'IPv6 loopback unavailable; listening on 127.0.0.1 only');
  }
  return {
    addresses,
    closeConnectionsAfterResponse: () => {
      for (const server of [app.server, ...secondary]) server.prependListener('request', askToClose);
    },
    closeIdleConnections: () => {
      for (const server of [app.server, ...secondary]) server.closeIdleConnections();
    },
    close: async () => {
      await Promise.all(
        secondary.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        ),
      );
    },
  };
}

export function actualPort(app: FastifyInstance): number {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

async function listenSecondary(app: FastifyInstance, host: string, port: number, front: FrontDoor): Promise<Server | null> {
  const connectionsCheckingInterval = connectionsCheckingIntervalMs(app.server.headersTimeout);
  const server = createServer({ connectionsCheckingInterval }, front((req, res) => app.routing(req, res)));
  server.keepAliveTimeout = app.server.keepAliveTimeout;
  server.headersTimeout = app.server.headersTimeout;
  server.requestTimeout = app.server.requestTimeout;
  server.on('upgrade', (...args) => app.server.emit('upgrade', ...args));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => resolve());
    });
    return server;
  } catch (error) {
    if (isAddressUnavailable(error)) return null;
    throw error;
  }
}

function isAddressUnavailable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT';
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export { isLoopbackBind };

function askToClose(_request: IncomingMessage, response: ServerResponse): void {
  response.setHeader('connection', 'close');
}
